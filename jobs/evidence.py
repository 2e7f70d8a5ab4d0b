"""Evidence jobs: a finished report's preservation (a follow-up of its finish), and rq cron's. Thin: an app
context, then the evidence services."""

from __future__ import annotations

from jobs import app_context


def preserve(report_id: int) -> bool:
    """Copy a finished report's evidence, after the finish's commit: a follow-up of the finish, done once per
    report (console/reporting/follow_ups.py; the record leaves "pending" once, by its own compare-and-set)."""
    from console.reporting import follow_ups, pipeline

    with app_context():
        return follow_ups.run_then_mark(report_id, pipeline.PRESERVE_JOB, _preserved)


def _preserved(report_id: int) -> bool:
    """Preserve (never raises: a failure is noted on the record), then say whether it is done."""
    from sqlalchemy import select

    from console.evidence import preservation
    from console.evidence.models import EvidenceRecord
    from console.extensions import db

    preservation.preserve_after_finish(report_id)
    state = db.session.scalar(select(EvidenceRecord.state).where(EvidenceRecord.report_id == report_id))
    db.session.rollback()
    return state not in (None, "pending")


def sweep() -> int:
    """Preserve what a worker did not: pending records, and finished reports without one."""
    from console.evidence import preservation

    with app_context():
        return preservation.sweep()


def retention() -> dict:
    """Purge expired evidence no hold covers; delete media of old "no violation" cases (if configured)."""
    from console.evidence import retention as service

    with app_context():
        purged = service.purge_expired()
        media = service.delete_no_violation_media()
        return {"purged": purged, "media_deleted": media}


def seal_audit_log() -> int:
    """Seal the audit events recorded since the last run (every second from rq cron)."""
    from console.evidence import sealer

    with app_context():
        return sealer.seal()


def verify_audit_log(requested_by: str = "system") -> bool:
    from console.evidence import logcheck

    with app_context():
        return logcheck.verify_and_record(actor_label=requested_by).ok
