"""Readiness: can this console do its work right now? Each dependency is checked on its own and named.

The database and Redis decide readiness (without them no page or job works). Workers decide it too: without
one, confirmed reports are never filed. NCMEC's last-known status is reported but does not make the console
unready — a CyberTipline outage is the pipeline's to ride out (retries, the sweep); taking the web out of a
load balancer would only stop moderators working.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from rq import Worker
from sqlalchemy import text

from console import tasks
from console.extensions import db
from console.reporting import agencies


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return Check("database", True, "answering")
    except Exception as error:  # any driver error means "not ready"; the detail names its class only
        db.session.rollback()
        return Check("database", False, f"not answering ({type(error).__name__})")


def redis() -> Check:
    try:
        tasks.redis_connection().ping()
        return Check("redis", True, "answering")
    except Exception as error:
        return Check("redis", False, f"not answering ({type(error).__name__})")


def workers() -> Check:
    """At least one worker on our queue: RQ drops a worker's registration when its heartbeat key expires."""
    try:
        count = Worker.count(queue=tasks.task_queue())
    except Exception as error:
        return Check("workers", False, f"unknown: Redis did not answer ({type(error).__name__})")
    if count == 0:
        return Check("workers", False, "no worker is running: confirmed reports will not be filed")
    return Check("workers", True, f"{count} running")


def ncmec() -> Check:
    try:
        agency = agencies.ncmec()
    except LookupError:
        return Check("ncmec", False, "the NCMEC agency row is missing", required=False)
    status = agency.last_check_status or "never checked"
    when = agency.last_check_at.isoformat(timespec="seconds") if agency.last_check_at else "never"
    return Check("ncmec", status == "connected", f"last connection test: {status} ({when})", required=False)


def storage() -> Check:
    """Room on the disks of media and evidence: below STORAGE_MIN_FREE_BYTES the console cannot store what it
    takes whole (an upload, a report's evidence), so it is not ready; the detail names the store."""
    from console.evidence import store

    cfg = current_app.config
    minimum = cfg["STORAGE_MIN_FREE_BYTES"]
    short = []
    for name, folder in (("media", Path(cfg["MEDIA_ROOT"])), ("evidence", store.root())):
        probe = folder
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent  # not created yet: the filesystem it will be made on
        try:
            stats = os.statvfs(probe)
        except OSError as error:
            short.append(f"{name}: cannot be read ({error.strerror})")
            continue
        free = stats.f_bavail * stats.f_frsize
        if free < minimum:
            short.append(f"{name}: {free // 1024} KiB free, below {minimum // 1024} KiB")
    if short:
        return Check("storage", False, "full: " + "; ".join(short) + " — nothing new is stored whole")
    return Check("storage", True, "room on media and evidence")


def readiness() -> list[Check]:
    checks = [database(), redis()]
    checks.append(workers() if checks[1].ok else Check("workers", False, "unknown: Redis is not answering"))
    checks.append(ncmec() if checks[0].ok else Check("ncmec", False, "unknown", required=False))
    checks.append(storage())
    return checks


def queue_depths() -> dict[str, int]:
    """Jobs waiting, scheduled (retries) and failed in RQ, for the metrics and the workers page."""
    queue = tasks.task_queue()
    return {
        "queued": queue.count,
        "scheduled": queue.scheduled_job_registry.count,
        "started": queue.started_job_registry.count,
        "failed": queue.failed_job_registry.count,
    }


def worker_rows() -> list[dict]:
    rows = []
    for worker in Worker.all(queue=tasks.task_queue()):
        job = worker.get_current_job()
        rows.append(
            {
                "name": worker.name,
                "state": worker.get_state(),
                "last_heartbeat": worker.last_heartbeat,
                "job": job.func_name if job else "",
                "successful": worker.successful_job_count,
                "failed": worker.failed_job_count,
            }
        )
    return rows
