"""The periodic sweep (jobs.sor.sweep, SOR_SWEEP_INTERVAL_SECONDS): a lost job only delays a statement.

Send jobs are enqueued after commit, and Redis may lose them; a worker may die holding leases. The rows are
the truth: pending, due statements of a ready environment that nobody drives — a lease that ran out, or no
lease and untouched for SWEEP_GRACE_SECONDS — get one send job per environment. The job's claim takes them.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from console import tasks
from console.extensions import db
from console.sor import agency as agencies
from console.sor.building import send_job
from console.sor.models import ENVIRONMENTS, StatementOfReasons
from console.timeutil import utcnow


def sweep() -> int:
    now = utcnow()
    grace = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    jobs, found = [], 0
    if not agencies.agency().enabled:
        db.session.commit()
        return 0
    for name in ENVIRONMENTS:
        if not agencies.is_ready(agencies.environment(name)):
            continue
        stranded = (
            StatementOfReasons.state == "pending",
            StatementOfReasons.environment == name,
            or_(StatementOfReasons.next_attempt_at.is_(None), StatementOfReasons.next_attempt_at <= now),
            or_(
                and_(StatementOfReasons.lease_owner.is_not(None), StatementOfReasons.lease_expires_at < now),
                and_(StatementOfReasons.lease_owner.is_(None), StatementOfReasons.updated_at < grace),
            ),
        )
        ids = list(db.session.scalars(select(StatementOfReasons.id).where(*stranded).limit(10_000)))
        if not ids:
            continue
        # Touched, so the next sweep leaves them to this job for another grace period.
        db.session.execute(
            update(StatementOfReasons)
            .where(StatementOfReasons.id.in_(ids), StatementOfReasons.lease_owner.is_(None))
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
        found += len(ids)
        jobs.append(send_job(name))
    tasks.commit_then_enqueue(jobs)
    return found
