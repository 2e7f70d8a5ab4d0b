"""The bridge to Redis and RQ: one connection per app, jobs enqueued by dotted name after commit.

The transaction convention, the same in every flow: a service function that changes rows owns its
transaction; it ends it with `commit_then_enqueue(jobs)`, so that a job never runs before the rows it works
on exist. What it calls along the way (filing.create_report, a receiver of a decision's signal) adds rows to
that same transaction and hands back the jobs to enqueue; it never commits and never enqueues. Views and jobs
never commit: they call a service function. A job lost between the commit and Redis is not lost work: the
database row is the truth, and the sweep enqueues it again.

Every job carries the request id of the work that made it (console/logs.py) in its meta, whoever enqueues it
(`enqueue`, or `task_queue().enqueue_at` for a retry): a web request's, or the job's own when a job enqueues
another. The worker's `jobs.app_context` binds it again, so a report can be followed from the click to NCMEC.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import redis
from flask import Flask, current_app
from rq import Queue
from rq.job import Job as RQJob

from console import logs
from console.extensions import db

log = logging.getLogger(__name__)


def redis_connection(app: Flask | None = None) -> redis.Redis:
    app = app or current_app
    conn = app.extensions.get("console_redis")
    if conn is None:
        url = app.config["REDIS_URL"]
        if not url:
            raise RuntimeError("REDIS_URL is not set: start the console with `make run` or set REDIS_URL")
        conn = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10)
        app.extensions["console_redis"] = conn
    return conn


class TracedQueue(Queue):
    """RQ's queue, whose jobs carry the current request id in their meta (unless the caller set one)."""

    def create_job(self, *args, meta: dict | None = None, **kwargs):
        request_id = logs.current_request_id()
        if request_id and not (meta and "request_id" in meta):
            meta = {**(meta or {}), "request_id": request_id}
        return super().create_job(*args, meta=meta, **kwargs)


def task_queue(app: Flask | None = None) -> Queue:
    app = app or current_app
    return TracedQueue(app.config["RQ_QUEUE"], connection=redis_connection(app))


# A finished report's follow-ups (console/reporting/follow_ups.py) wait in a queue of their own beside the
# console's, which every worker of jobs.worker.ConsoleWorker also listens to, after it: filing (and its
# retries) never waits behind the follow-ups of the reports finished before it.
FOLLOW_UP_QUEUE_SUFFIX = "-follow-ups"


def follow_up_queue_name(queue_name: str) -> str:
    return queue_name + FOLLOW_UP_QUEUE_SUFFIX


def follow_up_queue(app: Flask | None = None) -> Queue:
    app = app or current_app
    return TracedQueue(follow_up_queue_name(app.config["RQ_QUEUE"]), connection=redis_connection(app))


def _scoped_job_id(queue_name: str, job_id: str) -> str:
    """A fixed job id (`preview-7`, `verify-audit-chain`) names one job of this queue only.

    RQ keeps every job under `rq:job:<id>` whatever its queue, so two consoles sharing one Redis under their
    own RQ_QUEUE (staging beside production, parallel test workers) would overwrite each other's `preview-7`.
    """
    return f"{re.sub(r'[^A-Za-z0-9_-]', '_', queue_name)}-{job_id}"


def enqueue(func: str, *args, job_id: str | None = None, **options) -> bool:
    """Enqueue a job by dotted name. Call it only after the transaction that made the work has committed.

    A Redis outage must not lose work: the database row is the truth and a periodic sweep re-enqueues what is
    pending, so a failure here is logged and reported back, never raised into the request.
    """
    try:
        queue = task_queue()
        job = queue.enqueue(func, *args, job_id=job_id and _scoped_job_id(queue.name, job_id), **options)
    except redis.RedisError:
        log.exception("could not enqueue %s%r; the sweep will pick it up", func, args)
        return False
    # INFO: written in JSON logs (the line that links a request to its job), not in the default text.
    log.info("enqueued %s%r as job %s", func, args, job.id, extra={"enqueued_job_id": job.id})
    return True


# Take a job out of its queue, and its hash with it, only if it was still waiting there: a job a worker has
# already started is left to finish (and find its work done).
_DISCARD = """
for i, id in ipairs(ARGV) do
  if redis.call('LREM', KEYS[1], 0, id) > 0 then redis.call('DEL', KEYS[1 + i]) end
end
"""


def discard(job_ids: Iterable[str]) -> None:
    """Take waiting jobs (fixed ids, as given to ``enqueue``) out of the queue: their work was done otherwise.

    Best effort: a job left behind (Redis down, already started) runs and finds nothing to do.
    """
    queue = task_queue()
    ids = [_scoped_job_id(queue.name, j) for j in job_ids]
    if not ids:
        return
    try:
        queue.connection.eval(_DISCARD, 1 + len(ids), queue.key, *(RQJob.key_for(i) for i in ids), *ids)
    except redis.RedisError:
        log.warning("could not take %d done jobs out of the queue; they will find nothing to do", len(ids))


def waiting(job_ids: Iterable[str], *, follow_ups: bool = False) -> set[str]:
    """Which of these jobs (fixed ids, as given to ``enqueue``) still wait in their queue's list to be run.

    The list, not the job's status: a worker killed between taking a job and starting it leaves it "queued"
    in a list that no longer holds it. One round trip (the whole list: a backlog of thousands is a few
    hundred KB). Redis down: none (the caller's enqueue fails the same way and is tried again)."""
    job_ids = list(job_ids)
    if not job_ids:
        return set()
    queue = follow_up_queue() if follow_ups else task_queue()
    wanted = {_scoped_job_id(queue.name, j): j for j in job_ids}
    try:
        listed = queue.connection.lrange(queue.key, 0, -1)
    except redis.RedisError:
        return set()
    return {wanted[i] for i in (item.decode() for item in listed) if i in wanted}


def enqueue_many(jobs: Iterable[Job], *, follow_ups: bool = False) -> bool:
    """``enqueue`` for several jobs at once, in one round trip to Redis (a finish's follow-ups, in their own
    queue with follow_ups=True): the same promise — call it after the commit; a failure is logged, never
    raised (the sweep enqueues them again)."""
    jobs = [job for job in jobs if job.at is None]
    if not jobs:
        return True
    try:
        queue = follow_up_queue() if follow_ups else task_queue()
        made = queue.enqueue_many(
            [
                Queue.prepare_data(
                    job.func, job.args, job_id=job.job_id and _scoped_job_id(queue.name, job.job_id)
                )
                for job in jobs
            ]
        )
    except redis.RedisError:
        log.exception("could not enqueue %s; the sweep will pick them up", [(j.func, j.args) for j in jobs])
        return False
    for job, rq_job in zip(jobs, made, strict=False):
        log.info(
            "enqueued %s%r as job %s", job.func, job.args, rq_job.id, extra={"enqueued_job_id": rq_job.id}
        )
    return True


@dataclass(frozen=True)
class Job:
    """A job to enqueue once the transaction commits: a dotted function name and ids, never ORM objects.
    ``at``: not before this time (RQ's scheduler), e.g. when a report's gathering window closes."""

    func: str
    args: tuple = ()
    job_id: str | None = None
    at: datetime | None = None


def enqueue_at(at: datetime, func: str, *args) -> bool:
    """``enqueue`` for a time to come: a failure is logged, never raised (the sweep picks the work up)."""
    try:
        job = task_queue().enqueue_at(at, func, *args)
    except redis.RedisError:
        log.exception("could not schedule %s%r; the sweep will pick it up", func, args)
        return False
    log.info("scheduled %s%r for %s as job %s", func, args, at.isoformat(), job.id)
    return True


def commit_then_enqueue(jobs: Iterable[Job] = ()) -> None:
    """End the service's transaction: commit, and only then enqueue the jobs for what it committed."""
    jobs = list(jobs)
    db.session.commit()
    for job in jobs:
        if job.at is not None:
            enqueue_at(job.at, job.func, *job.args)
        else:
            enqueue(job.func, *job.args, job_id=job.job_id)
