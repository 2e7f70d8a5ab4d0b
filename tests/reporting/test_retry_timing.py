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


def report_state(report_id: int) -> tuple[str, str]:
    """(state, error_kind), read in a transaction of its own: on SQLite an open one would block the worker."""
    db.session.rollback()
    row = db.session.execute(
        db.select(ExternalReport.state, ExternalReport.error_kind).where(ExternalReport.id == report_id)
    ).one()
    db.session.rollback()
    return row.state, row.error_kind


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
        failed_at = None
        while time.monotonic() < deadline:
            state, error_kind = report_state(report_id)
            if failed_at is None and error_kind == "retry":
                failed_at = time.monotonic()
            if state == "finished":
                break
            time.sleep(0.05)
        finished_at = time.monotonic()
        assert failed_at is not None, "the first attempt never failed"
        assert report_state(report_id)[0] == "finished"
        took = finished_at - failed_at
        print(f"retry finished {took:.2f} s after the failure (backoff {BACKOFF} s)")
        assert BACKOFF - 1.5 <= took <= BACKOFF + 2, took
        assert ncmec_simulator.stats()["calls"]["submit"] == 2
    finally:
        pool.stop_all()
