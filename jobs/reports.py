"""Jobs that file reports. Thin: an app context, then the pipeline, with ids only."""

from __future__ import annotations

from jobs import app_context


def file_report(report_id: int) -> str | None:
    from console.reporting import pipeline

    with app_context():
        return pipeline.drive(report_id)


def sweep() -> int:
    """Re-enqueue reports that no worker drives (lost job, killed worker, Redis restart)."""
    from console.reporting import sweep as reporting

    with app_context():
        return reporting.sweep()


def sweep_follow_ups() -> int:
    """Re-enqueue the follow-ups of finished reports that nobody did (lost job, killed worker, a failure)."""
    from console.reporting import follow_ups

    with app_context():
        return follow_ups.sweep()
