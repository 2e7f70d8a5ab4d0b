"""Jobs that deliver webhooks to the platform. Thin: an app context, then console/webhooks, with ids only."""

from __future__ import annotations

from jobs import app_context


def deliver(event_id: int) -> str | None:
    from console.webhooks import delivery

    with app_context():
        return delivery.deliver(event_id)


def sweep() -> int:
    """Re-enqueue events that no worker delivers (lost job, killed worker, Redis restart)."""
    from console.webhooks import sweep as webhooks

    with app_context():
        return webhooks.sweep()
