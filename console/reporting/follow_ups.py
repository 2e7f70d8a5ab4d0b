"""What a finished report sets going: each follow-up is a job of its own, promised by a row.

The filing job files and nothing else. The transaction that records a report as finished (pipeline._finish)
writes one `ReportFollowUp` row per thing that must now happen — preserving the evidence (console/evidence),
banking the hashes (the hash bank), asking the platform to preserve the account (webhooks): the jobs that the
pipeline and the receivers of `report_finished` hand back — in one INSERT (`promise`), commits, then enqueues
the jobs (console/tasks.py's convention). Reporting knows the jobs by their dotted names only.

- The jobs wait in their own queue (console/tasks.py, `follow_up_queue`), which the console's workers take
  from after the console's own: filing and its retries never wait behind follow-ups.
- A row is the truth: "pending" until its job has done the work, then "done" once, by a compare-and-set.
  A job lost with Redis, or a worker killed (SIGKILL) after the finish or in the middle of a follow-up, leaves
  the row pending; the sweep (`sweep`, jobs.reports.sweep_follow_ups from rq cron) enqueues it again.
- Each follow-up runs once per report, however often its job is delivered:
  `run_once` does work that only writes rows (banking, the preservation request) in the transaction that
  marks the row done — a second delivery finds it done and does nothing (on PostgreSQL it waits on the row
  lock of the first, then finds it done; on SQLite writers are serial). `run_then_mark` is for work that
  commits on its own and is idempotent itself (evidence preservation: content-addressed copies outside any
  transaction, its record leaving "pending" once by its own compare-and-set); the row is marked done after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert, select, update

from console import tasks
from console.extensions import db
from console.reporting.models import ReportFollowUp
from console.timeutil import utcnow

log = logging.getLogger(__name__)


def follow_up_job(report_id: int, func: str) -> tasks.Job:
    """A follow-up's job, under a fixed id (one per report and job): the sweep can tell one still waiting in
    Redis from one that was lost, and enqueues only the lost."""
    return tasks.Job(func, (report_id,), job_id=f"follow-up-{report_id}-{func.replace('.', '_')}")


def promise(report_id: int, jobs: Iterable[tasks.Job], now=None) -> list[tasks.Job]:
    """In the finish's transaction: one pending row per job (one INSERT). Returns the jobs to enqueue after
    the commit, without duplicates, each under its fixed id."""
    unique = [follow_up_job(report_id, func) for func in dict.fromkeys(j.func for j in jobs)]
    if unique:
        now = now or utcnow()
        db.session.execute(
            insert(ReportFollowUp),
            [
                dict(
                    report_id=report_id,
                    job=promised.func,
                    state="pending",
                    attempts=0,
                    last_error="",
                    created_at=now,
                    updated_at=now,
                )
                for promised in unique
            ],
        )
    return unique


def _still_pending(report_id: int, job: str):
    """An UPDATE of the follow-up's row that changes it only while it is pending (a compare-and-set)."""
    return update(ReportFollowUp).where(
        ReportFollowUp.report_id == report_id, ReportFollowUp.job == job, ReportFollowUp.state == "pending"
    )


def _claim_done(report_id: int, job: str) -> bool:
    return (
        db.session.execute(
            _still_pending(report_id, job)
            .values(state="done", done_at=utcnow(), updated_at=utcnow(), last_error="")
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def run_once(report_id: int, job: str, work: Callable[[int], Iterable[tasks.Job] | None]) -> bool:
    """Mark the follow-up done and do `work` (rows only, no commit of its own) in one transaction; then
    enqueue the jobs it hands back. False: done already (a re-delivery) or never promised (the sweeps of the
    evidence and the hash bank cover reports finished before follow-ups existed)."""
    db.session.rollback()
    try:
        if not _claim_done(report_id, job):
            db.session.rollback()
            return False
        then = work(report_id) or ()
        tasks.commit_then_enqueue(then)
    except Exception as e:
        db.session.rollback()
        note_failure(report_id, job, e)
        raise
    return True


def run_then_mark(report_id: int, job: str, work: Callable[[int], bool]) -> bool:
    """Do `work`, which commits on its own and is idempotent itself, and mark the follow-up done when it
    says it is (True); else the row stays pending and the sweep enqueues the job again."""
    db.session.rollback()
    pending = db.session.scalar(
        select(ReportFollowUp.state).where(ReportFollowUp.report_id == report_id, ReportFollowUp.job == job)
    )
    db.session.rollback()
    if pending == "done":
        return False
    done = work(report_id)
    db.session.rollback()
    if done:
        _claim_done(report_id, job)
    else:
        note_failure(report_id, job, None)
    db.session.commit()
    return bool(done)


def note_failure(report_id: int, job: str, error: Exception | None) -> None:
    try:
        db.session.execute(
            _still_pending(report_id, job)
            .values(
                attempts=ReportFollowUp.attempts + 1,
                last_error=(str(error) or repr(error))[:2000] if error is not None else "not done yet",
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("report %s: could not note the failure of %s", report_id, job)


def sweep(limit: int = 500) -> int:
    """Enqueue again every pending follow-up that nothing touched for SWEEP_GRACE_SECONDS (its job was lost,
    its worker died, or it failed) and whose job is not still waiting in Redis. Enqueueing touches the row, so
    the next sweep leaves it alone for another grace period.

    A job waiting in the queue is not lost, only late: behind a backlog (after an outage, a burst of finishes)
    a follow-up may wait longer than the grace period, and enqueueing it again every sweep would grow the
    backlog it waits behind."""
    now = utcnow()
    grace = now - timedelta(seconds=current_app.config["SWEEP_GRACE_SECONDS"])
    rows = db.session.execute(
        select(ReportFollowUp.report_id, ReportFollowUp.job)
        .where(ReportFollowUp.state == "pending", ReportFollowUp.updated_at < grace)
        .order_by(ReportFollowUp.updated_at)
        .limit(limit)
    ).all()
    ids = {(report_id, func): follow_up_job(report_id, func).job_id for report_id, func in rows}
    waiting = tasks.waiting(ids.values(), follow_ups=True)
    rows = [(report_id, func) for report_id, func in rows if ids[report_id, func] not in waiting]
    for report_id, func in rows:
        db.session.execute(
            _still_pending(report_id, func)
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    tasks.enqueue_many((follow_up_job(report_id, func) for report_id, func in rows), follow_ups=True)
    return len(rows)
