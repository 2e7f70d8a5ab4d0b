"""Small RQ jobs for tests/ops/test_logs.py, run by real `rq worker` processes (imported by dotted name)."""

from __future__ import annotations

import logging

from jobs import app_context

log = logging.getLogger("jobs.test_logs")


def relay(note: str) -> None:
    """A job that enqueues another, the way a retry or the sweep does."""
    from console import tasks

    with app_context():
        log.warning("relay %s", note, extra={"case_id": 7})
        tasks.enqueue("tests.ops.logjobs.leaf", note)


def leaf(note: str) -> None:
    with app_context():
        log.warning("leaf %s", note, extra={"report_id": 9})
