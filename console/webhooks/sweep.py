"""The periodic sweep (jobs.webhooks.sweep, WEBHOOK_SWEEP_INTERVAL_SECONDS): a lost job only delays an event.

Jobs are enqueued after commit, and Redis may lose them (restart, outage, a worker killed mid-delivery). The
rows are the truth: every pending event of an enabled endpoint that is due and driven by nobody — its lease
ran out, or nothing touched it for SWEEP_GRACE_SECONDS — is enqueued again, unless its job still waits in
the queue. Enqueueing touches the row, so the next sweep leaves it alone for another grace period.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from console import tasks
from console.extensions import db
from console.timeutil import utcnow
from console.webhooks.models import WebhookEndpoint, WebhookEvent
from console.webhooks.service import delivery_job


def sweep(limit: int = 500) -> int:
    now = utcnow()
    grace = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.enabled.is_(True))
    ids = list(
        db.session.scalars(
            select(WebhookEvent.id)
            .where(
                WebhookEvent.state == "pending",
                WebhookEvent.endpoint_id.in_(enabled),
                or_(WebhookEvent.next_attempt_at.is_(None), WebhookEvent.next_attempt_at <= now),
                or_(
                    and_(WebhookEvent.lease_owner.is_not(None), WebhookEvent.lease_expires_at < now),
                    and_(WebhookEvent.lease_owner.is_(None), WebhookEvent.updated_at < grace),
                ),
            )
            .order_by(WebhookEvent.id)
            .limit(limit)
        )
    )
    if ids:  # a job still waiting in the queue is late, not lost (console/reporting/sweep.py)
        waiting = tasks.waiting([delivery_job(event_id).job_id for event_id in ids])
        ids = [event_id for event_id in ids if delivery_job(event_id).job_id not in waiting]
    if ids:
        db.session.execute(
            update(WebhookEvent)
            .where(
                WebhookEvent.id.in_(ids),
                or_(WebhookEvent.lease_owner.is_(None), WebhookEvent.lease_expires_at < now),
            )
            .values(lease_owner=None, lease_expires_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    tasks.commit_then_enqueue(delivery_job(event_id) for event_id in ids)
    return len(ids)
