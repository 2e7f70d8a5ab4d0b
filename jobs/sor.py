"""Jobs that send statements of reasons to the DSA Transparency Database. Thin: an app context, then
console/sor, with plain arguments only."""

from __future__ import annotations

from jobs import app_context


def send(environment: str) -> int:
    from console.sor import sending

    with app_context():
        return sending.drain(environment)


def sweep() -> int:
    """Re-enqueue statements that no worker sends (lost job, killed worker, Redis restart)."""
    from console.sor import sweep as sor

    with app_context():
        return sor.sweep()
