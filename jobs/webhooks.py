"""Jobs that deliver webhooks to the platform. Thin: an app context, then console/webhooks, with ids only."""

from __future__ import annotations

from jobs import app_context


def deliver(event_id: int) -> str | None:
    from console.webhooks import delivery

    with app_context():
        return delivery.deliver(event_id)


def ask_preservation(report_id: int) -> bool:
    """Ask the platform to preserve the account of a finished report: a follow-up of its finish, once per
    report (the event and the follow-up's "done" in one transaction, then its delivery job)."""
    from console.reporting import follow_ups
    from console.webhooks import service

    with app_context():
        return follow_ups.run_once(report_id, service.PRESERVATION_JOB, service.ask_preservation)


def sweep() -> int:
    """Re-enqueue events that no worker delivers (lost job, killed worker, Redis restart)."""
    from console.webhooks import sweep as webhooks

    with app_context():
        return webhooks.sweep()
