"""Evidence jobs for rq cron. Thin: an app context, then the evidence services."""

from __future__ import annotations

from jobs import app_context


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
