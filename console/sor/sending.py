"""Sending statements of reasons: batches of up to 100 per environment, each PUID in one request at a time.

- The rows are the truth. A worker (jobs.sor.send) claims up to 100 pending, due statements of one
  environment by a compare-and-set UPDATE on their lease (like console/webhooks/delivery.py and
  console/reporting/lease.py), commits, and only then calls the service: no two workers ever send one PUID at
  once, and no transaction is held across the call. The claim counts the attempt first, so "the service
  already has it" on a first attempt is known to be someone else's PUID (``unexpected_duplicate``).
- console/dsa `deliver` does the protocol (API.md §10): batches all-or-nothing, a duplicate answer verified by
  the existing-PUID lookup, a lost answer left alone until the PUID's lock has passed. Its outcome per PUID is
  written here, each UPDATE guarded by the lease (a worker whose lease ran out writes nothing).
- Stored or confirmed already there: submitted. A refusal (the service's 422, with its words, or our own
  check): failed, until an admin fixes the mapping and presses Resend. 429, 5xx, a lost answer: pending again
  with backoff (at least the service's Retry-After or the PUID lock) and the same PUID. 401/403 or a wrong
  URL: the environment is paused for an admin; nothing more is sent to it until they save it again.
- A worker killed mid-call leaves leases that run out (SOR_LEASE_SECONDS, longer than the PUID lock): the
  sweep (console/sor/sweep.py) enqueues a send again and the next claim re-sends the same PUIDs.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, or_, select, update

from console import audit, tasks
from console.dsa import AlreadyThere, Refused, Stored, Unresolved, deliver
from console.dsa.constants import BATCH_MAX, PUID_LOCK_SECONDS
from console.extensions import db
from console.sor import agency as agencies
from console.sor.building import SEND_JOB
from console.sor.models import SorEnvironment, StatementOfReasons
from console.timeutil import utcnow

log = logging.getLogger(__name__)

# RQ's scheduler keeps whole seconds: a retry job may wake this much early; it waits for its statements.
SCHEDULER_TOLERANCE = timedelta(seconds=1.5)
DEFAULTS = {
    "SOR_LEASE_SECONDS": 150.0,  # > the delivery budget (60 s) + one call (25 s), and > the PUID lock (30 s)
    "SOR_RETRY_BASE_SECONDS": 5.0,
    "SOR_RETRY_MAX_SECONDS": 1800.0,
    "SOR_PUID_LOCK_SECONDS": float(PUID_LOCK_SECONDS),
    "SOR_READ_TIMEOUT": 20.0,
    "SOR_DRAIN_SECONDS": 120.0,  # one job sends batches for this long, then hands on to a new job
    "SOR_BATCH": True,  # False: one call per statement (bench/sor.py compares)
}


def setting(name: str):
    return current_app.config.get(name, DEFAULTS[name])


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Claimed:
    id: int
    puid: str
    body: dict
    attempts: int


def claim(environment: str, owner: str, limit: int = BATCH_MAX) -> list[Claimed]:
    """Take up to ``limit`` pending, due statements of the environment that nobody holds; commit."""
    now = utcnow()
    agency = agencies.agency()
    env = agencies.environment(environment)
    if not agency.enabled or not agencies.is_ready(env):
        db.session.commit()
        return []
    free = or_(StatementOfReasons.lease_owner.is_(None), StatementOfReasons.lease_expires_at < now)
    due = or_(
        StatementOfReasons.next_attempt_at.is_(None),
        StatementOfReasons.next_attempt_at <= now,
    )
    ids = list(
        db.session.scalars(
            select(StatementOfReasons.id)
            .where(
                StatementOfReasons.state == "pending",
                StatementOfReasons.environment == environment,
                due,
                free,
            )
            .order_by(StatementOfReasons.id)
            .limit(limit)
        )
    )
    if not ids:
        db.session.commit()
        return []
    rows = db.session.execute(
        update(StatementOfReasons)
        .where(StatementOfReasons.id.in_(ids), StatementOfReasons.state == "pending", free)
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=setting("SOR_LEASE_SECONDS")),
            attempts=StatementOfReasons.attempts + 1,
            first_sent_at=db.func.coalesce(StatementOfReasons.first_sent_at, now),
            updated_at=now,
        )
        .returning(
            StatementOfReasons.id,
            StatementOfReasons.puid,
            StatementOfReasons.body,
            StatementOfReasons.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted((Claimed(r.id, r.puid, r.body, r.attempts) for r in rows), key=lambda c: c.id)


def _backoff(attempts: int) -> float:
    base, cap = setting("SOR_RETRY_BASE_SECONDS"), setting("SOR_RETRY_MAX_SECONDS")
    return min(cap, base * 2 ** max(attempts - 1, 0)) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter


def _owned(row_id: int, owner: str):
    return (
        update(StatementOfReasons)
        .where(StatementOfReasons.id == row_id, StatementOfReasons.lease_owner == owner)
        .execution_options(synchronize_session=False)
    )


def _summary(errors: dict) -> str:
    parts = [
        f"{field}: {messages[0] if isinstance(messages, list) and messages else messages}"
        for field, messages in errors.items()
    ]
    return "; ".join(parts)[:500] or "refused"


def record(environment: str, owner: str, claimed: list[Claimed], outcomes: dict) -> datetime | None:
    """Write each outcome under the lease; returns the earliest retry time, if any. Commits."""
    now = utcnow()
    released = {"lease_owner": None, "lease_expires_at": None, "updated_at": now}
    earliest = None
    paused = None
    _record_stored(
        owner,
        now,
        released,
        [(c, outcomes[c.puid]) for c in claimed if isinstance(outcomes.get(c.puid), Stored)],
    )
    for item in claimed:
        outcome = outcomes.get(item.puid)
        if isinstance(outcome, Stored):
            continue
        if isinstance(outcome, AlreadyThere):
            unexpected = item.attempts == 1
            values = {
                "state": "submitted",
                "uuid": outcome.uuid,
                "already_there": True,
                "unexpected_duplicate": unexpected,
                "submitted_at": now,
                "next_attempt_at": None,
                "last_error": "The service already had this PUID before this console first sent it: is "
                "another sender using the same PUIDs?"
                if unexpected
                else "",
            }
        elif isinstance(outcome, Refused):
            values = {
                "state": "failed",
                "errors": outcome.errors,
                "refused_by": "service" if outcome.sent else "console",
                "last_error": _summary(outcome.errors),
                "next_attempt_at": None,
            }
        elif isinstance(outcome, Unresolved) and outcome.needs_admin:
            paused = str(outcome.error)[:500]
            values = {"last_error": paused, "next_attempt_at": None}
        else:
            error = outcome.error if isinstance(outcome, Unresolved) else "no outcome"
            wait = max(_backoff(item.attempts), float(getattr(outcome, "retry_after", None) or 0))
            at = now + timedelta(seconds=wait)
            earliest = at if earliest is None or at < earliest else earliest
            values = {"last_error": str(error)[:500], "next_attempt_at": at}
        changed = db.session.execute(_owned(item.id, owner).values(**values, **released)).rowcount
        if changed and values.get("state") in ("submitted", "failed"):
            audit.record(
                f"sor_{values['state']}",
                "statement_of_reasons",
                item.id,
                actor_label="system",
                puid=item.puid,
                uuid=values.get("uuid"),
                error=values.get("last_error") or None,
            )
    if paused:
        db.session.execute(
            update(SorEnvironment)
            .where(SorEnvironment.name == environment, SorEnvironment.paused_reason == "")
            .values(paused_reason=paused, paused_at=now)
        )
        audit.record(
            "sor_environment_paused", "sor_environment", environment, actor_label="system", reason=paused
        )
        log.warning("statements of reasons to %s paused for an admin: %s", environment, paused)
    db.session.commit()
    return earliest


def _record_stored(owner: str, now: datetime, released: dict, stored: list) -> None:
    """The common case, statements stored with their uuid: one executemany for the batch, not a round trip
    per statement; each still guarded by the lease (a statement another worker took over is not written)."""
    if not stored:
        return
    table = StatementOfReasons.__table__
    db.session.connection().execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lease_owner == owner)
        .values(
            state="submitted",
            uuid=bindparam("b_uuid"),
            submitted_at=now,
            last_error="",
            next_attempt_at=None,
            **released,
        ),
        [{"b_id": item.id, "b_uuid": outcome.uuid} for item, outcome in stored],
    )
    written = set(
        db.session.scalars(
            select(StatementOfReasons.id).where(
                StatementOfReasons.id.in_([item.id for item, _ in stored]),
                StatementOfReasons.submitted_at == now,
            )
        )
    )
    for item, outcome in stored:
        if item.id in written:
            audit.record(
                "sor_submitted",
                "statement_of_reasons",
                item.id,
                actor_label="system",
                puid=item.puid,
                uuid=outcome.uuid,
            )


def send_batch(environment: str, owner: str) -> int | None:
    """Claim, send, record one batch. Returns how many were claimed (0: nothing to do), None when paused."""
    claimed = claim(environment, owner)
    if not claimed:
        return 0
    env = agencies.environment(environment)
    try:
        client = agencies.client_for(
            env, read_timeout=setting("SOR_READ_TIMEOUT"), puid_lock_seconds=setting("SOR_PUID_LOCK_SECONDS")
        )
    except Exception as e:  # noqa: BLE001 - a URL or key an admin must fix: pause, keep every statement
        from console.dsa import NeedsAdminError

        error = NeedsAdminError(f"cannot build the client: {e}")
        outcomes = {c.puid: Unresolved(c.puid, error) for c in claimed}
    else:
        outcomes = deliver(client, [c.body for c in claimed], batch=bool(setting("SOR_BATCH")))
    earliest = record(environment, owner, claimed, outcomes)
    if earliest is not None:
        tasks.enqueue_at(earliest, SEND_JOB, environment)
    return len(claimed)


def drain(environment: str, owner: str | None = None) -> int:
    """Send batches until nothing is due (or SOR_DRAIN_SECONDS passed: then a new job carries on)."""
    owner = owner or new_owner()
    deadline = time.monotonic() + setting("SOR_DRAIN_SECONDS")
    sent = 0
    while True:
        claimed = send_batch(environment, owner)
        if not claimed:
            soon = _due_soon(environment)
            if soon is None:
                return sent
            time.sleep(soon)
            continue
        sent += claimed
        if time.monotonic() > deadline:
            tasks.enqueue(SEND_JOB, environment)
            return sent


def _due_soon(environment: str) -> float | None:
    """Seconds until the next pending statement is due, when that is within SCHEDULER_TOLERANCE (a job woken
    early by the scheduler waits for it rather than leave it to the sweep); else None."""
    now = utcnow()
    at = db.session.scalar(
        select(func.min(StatementOfReasons.next_attempt_at)).where(
            StatementOfReasons.state == "pending",
            StatementOfReasons.environment == environment,
            StatementOfReasons.next_attempt_at > now,
            StatementOfReasons.lease_owner.is_(None),
        )
    )
    db.session.rollback()
    if at is None:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=now.tzinfo)
    wait = (at - now).total_seconds()
    return wait + 0.01 if wait <= SCHEDULER_TOLERANCE.total_seconds() else None
