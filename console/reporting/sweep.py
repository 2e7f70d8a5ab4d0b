"""The periodic sweep (jobs.reports.sweep, every SWEEP_INTERVAL_SECONDS): a lost job only delays a report.

Jobs are enqueued after commit, and Redis may lose them (restart, outage, a worker killed mid-job). The rows
are the truth: whatever is active, due and driven by nobody is enqueued again, and a failed report still
open at NCMEC is retracted before NCMEC expires it, so that its content can be filed anew.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from console import tasks
from console.extensions import db
from console.reporting import filing, pipeline, service
from console.reporting.models import ACTIVE_STATES, ExternalReport
from console.timeutil import utcnow

log = logging.getLogger(__name__)


def sweep(limit: int = 500) -> int:
    """Re-enqueue every active report that nobody drives and that is due: a lost job only delays a report.

    Stale means: its lease expired (the worker died), or it has no lease, is due, nothing touched it for
    SWEEP_GRACE_SECONDS (its job was lost with Redis, or never enqueued) and its job is not still waiting in
    the queue. Enqueueing touches the row, so the next sweep leaves it alone for another grace period.

    A job waiting in the queue is late, not lost: after Redis came back empty, two workers took ~15 s to
    file the 25 reports the sweep had handed back, and a sweep every 2 s enqueued each again meanwhile —
    824 jobs queued, the reports' own behind them (the infrastructure trials).
    """
    now = utcnow()
    grace = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    ids = list(
        db.session.scalars(
            select(ExternalReport.id)
            .where(
                ExternalReport.state.in_(ACTIVE_STATES),
                or_(ExternalReport.next_attempt_at.is_(None), ExternalReport.next_attempt_at <= now),
                or_(
                    and_(ExternalReport.lease_owner.is_not(None), ExternalReport.lease_expires_at < now),
                    and_(ExternalReport.lease_owner.is_(None), ExternalReport.updated_at < grace),
                ),
            )
            .order_by(ExternalReport.id)
            .limit(limit)
        )
    )
    if ids:
        waiting = tasks.waiting([pipeline.job(report_id).job_id for report_id in ids])
        ids = [report_id for report_id in ids if pipeline.job(report_id).job_id not in waiting]
    if ids:
        db.session.execute(
            update(ExternalReport)
            .where(
                ExternalReport.id.in_(ids),
                or_(ExternalReport.lease_owner.is_(None), ExternalReport.lease_expires_at < now),
            )
            .values(lease_owner=None, lease_expires_at=None, updated_at=now)
        )
    tasks.commit_then_enqueue(pipeline.job(report_id) for report_id in ids)
    retract_abandoned()
    return len(ids)


def retract_abandoned() -> list[int]:
    """Retract failed reports left open at NCMEC: nobody will finish them, and an open report is not a report.

    Their case shows "NCMEC report required" again, so a person files the content anew.
    """
    cutoff = utcnow() - timedelta(hours=current_app.config["REPORT_ABANDON_HOURS"])
    ids = list(
        db.session.scalars(
            select(ExternalReport.id).where(
                ExternalReport.state == "failed",
                ExternalReport.ncmec_report_id.is_not(None),
                ExternalReport.updated_at < cutoff,
            )
        )
    )
    db.session.commit()
    done = []
    for report_id in ids:
        try:
            service.retract(report_id, reason="failed and left open: retracted before NCMEC expires it")
            done.append(report_id)
        except filing.ReportingError:
            log.exception("report %s: could not retract the abandoned report", report_id)
    return done
