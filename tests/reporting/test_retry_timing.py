"""A retry runs at its backoff time, not at the next sweep (RQ's scheduler works in whole seconds)."""

from __future__ import annotations

import time
import uuid

import pytest

from console import tasks
from console.extensions import db
from console.reporting import pipeline
from console.reporting.models import ExternalReport
from tests.reporting import fault_harness as fh

BACKOFF = 3.0


def report_row(report_id: int):
    """The report's row, read in a transaction of its own: on SQLite an open one would block the worker."""
    db.session.rollback()
    row = db.session.execute(
        db.select(
            ExternalReport.state,
            ExternalReport.error_kind,
            ExternalReport.updated_at,
            ExternalReport.next_attempt_at,
            ExternalReport.submitted_at,
        ).where(ExternalReport.id == report_id)
    ).one()
    db.session.rollback()
    return row


@pytest.mark.timeout(120)
def test_a_retryable_failure_is_retried_at_its_backoff_by_the_scheduler(ctx, ncmec_simulator):
    # A queue of its own: RQ's scheduler holds a per-queue lock for a minute after its worker dies.
    ctx.config["RQ_QUEUE"] = f"retry-timing-{uuid.uuid4().hex[:8]}"
    trial = fh.make_reports(ctx, ncmec_simulator, 1, seed=20)
    [report_id] = trial.reports
    ncmec_simulator.set_fault("submit", "http_500", times=1)
    pool = fh.Workers(ctx)
    # The worker's backoff; no sweep runs in this test (nothing calls it) to rescue a wasted retry.
    pool.env.update(REPORT_RETRY_BASE_SECONDS=str(BACKOFF), REPORT_RETRY_MAX_SECONDS=str(BACKOFF))
    pool.start(scheduler=True)
    try:
        tasks.enqueue(pipeline.JOB, report_id)
        deadline = time.monotonic() + BACKOFF + 20
        failure = None
        while time.monotonic() < deadline:
            row = report_row(report_id)
            if failure is None and row.error_kind == "retry":
                failure = row  # as the worker left it when the first attempt failed
            if row.state == "finished":
                break
            time.sleep(0.05)
        assert failure is not None, "the first attempt never failed"
        finished = report_row(report_id)
        assert finished.state == "finished"
        scheduled = (failure.next_attempt_at - failure.updated_at).total_seconds()
        assert scheduled == pytest.approx(BACKOFF, abs=0.5)
        # From the failure to the retry's accepted /submit, on the worker's own clock (what the rows record):
        # neither this test's polling nor the rest of the filing on a busy machine counts.
        took = (finished.submitted_at - failure.updated_at).total_seconds()
        print(f"retried {took:.2f} s after the failure (backoff {BACKOFF} s)")
        assert BACKOFF - 1.5 <= took <= BACKOFF + 2, took
        assert ncmec_simulator.stats()["calls"]["submit"] == 2
    finally:
        pool.stop_all()
