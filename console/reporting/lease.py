"""Leases on report rows: which worker may make calls for a report right now.

A worker drives a report only while it holds the row's lease: a compare-and-set UPDATE checked by rowcount,
never a Python check. It renews the lease before every call, so that a call can never outlive it, and a
worker that lost its lease (it stalled; another worker claimed the expired lease) stops before its next call
with LeaseLost. Every write made while driving goes through `update_owned`, which refuses to write once the
lease is gone. An operator action (Retract) takes the lease the same way, so it never races a worker.

Each function commits (or rolls back) before it returns: no transaction is held across the network call
that follows it (on SQLite an open transaction blocks every other writer).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import exc as sa_exc
from sqlalchemy import or_, update

from console.extensions import db
from console.reporting.models import ACTIVE_STATES, ExternalReport
from console.timeutil import utcnow

# How early a scheduled job may wake and still claim its report: RQ's scheduler truncates run times to whole
# seconds (up to 1 s early), plus a margin for the clocks of several hosts.
SCHEDULER_TOLERANCE = timedelta(seconds=1.5)


class LeaseLost(Exception):
    """Another worker took the report over (our lease expired); stop before making any further call."""


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def lease_seconds() -> float:
    return current_app.config["REPORT_LEASE_SECONDS"]


def claim(report_id: int, owner: str, *, commit: bool = True) -> bool:
    """Take an active, due report that nobody holds, counting one attempt. False: someone else has it.

    commit=False leaves a won claim's transaction open for the caller to add to and commit (the pipeline
    reads the row and writes the document it will send in it); a lost claim is always ended here.
    """
    now = utcnow()
    claimed = db.session.execute(
        update(ExternalReport)
        .where(
            ExternalReport.id == report_id,
            ExternalReport.state.in_(ACTIVE_STATES),
            or_(ExternalReport.lease_owner.is_(None), ExternalReport.lease_expires_at < now),
            or_(
                ExternalReport.next_attempt_at.is_(None),
                ExternalReport.next_attempt_at <= now + SCHEDULER_TOLERANCE,
            ),
        )
        .values(
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_seconds()),
            attempts=ExternalReport.attempts + 1,
            updated_at=now,
            # A report a rule's window gathered contents into is frozen by the claim that takes it: no
            # content joins it from here on (reporting/gathering.py), in the same compare-and-set.
            gathering_until=None,
            gathering_key=None,
        )
    ).rowcount
    if claimed != 1 or commit:
        db.session.commit()
    if claimed == 1:
        _lease_until[owner] = now + timedelta(seconds=lease_seconds())
    return claimed == 1


def take(report_id: int, owner: str) -> bool:
    """Take any unfinished report that nobody holds, for an operator action (no attempt is counted)."""
    now = utcnow()
    taken = db.session.execute(
        update(ExternalReport)
        .where(
            ExternalReport.id == report_id,
            ExternalReport.state != "finished",
            or_(ExternalReport.lease_owner.is_(None), ExternalReport.lease_expires_at < now),
        )
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds()))
    ).rowcount
    db.session.commit()
    return taken == 1


def update_owned(report_id: int, owner: str, *conditions, **values) -> None:
    """Write `values` to the report only while we hold its lease (and `conditions` hold); else LeaseLost."""
    changed = db.session.execute(
        update(ExternalReport)
        .where(ExternalReport.id == report_id, ExternalReport.lease_owner == owner, *conditions)
        .values(**values)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise LeaseLost(report_id)


# The database went away under a worker (a restart, a lost connection): not the report's fault.
DATABASE_LOST = (sa_exc.OperationalError, sa_exc.InterfaceError)


def let_go(report_id: int, owner: str) -> bool:
    """Give the lease back now if the database lets us (else it expires, as a killed worker's does); never
    raises. For a worker that must stop where it is: the database is gone, or a cold shutdown."""
    try:
        release(report_id, owner)
        return True
    except Exception:  # noqa: BLE001 - the database is away: the lease runs out by itself
        _lease_until.pop(owner, None)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001
            db.session.registry.clear()
        return False


# When each lease we hold runs out, as we last wrote it. While more than half of it is left, nobody else can
# hold the report (a claim needs an expired lease), so a call may go ahead without another durable write.
_lease_until: dict[str, datetime] = {}


def renew(report_id: int, owner: str, **values) -> None:
    """Make sure we hold the lease for well over a call's longest duration (and write `values`)."""
    now = utcnow()
    until = _lease_until.get(owner)
    cfg = current_app.config
    # A call may last up to both timeouts (and we must not outlive the lease during it): keep a wide margin.
    needed = max(lease_seconds() / 2, cfg["NCMEC_CONNECT_TIMEOUT"] + cfg["NCMEC_READ_TIMEOUT"] + 5)
    if not values and until is not None and (until - now).total_seconds() > needed:
        return
    until = now + timedelta(seconds=lease_seconds())
    update_owned(report_id, owner, lease_expires_at=until, updated_at=now, **values)
    db.session.commit()
    _lease_until[owner] = until


def forget(owner: str) -> None:
    """The lease was given back by a write of the caller's own (the finish): stop tracking it."""
    _lease_until.pop(owner, None)


def release(report_id: int, owner: str, *, commit: bool = True, **values) -> None:
    """Give the lease back (writing `values` with it), whatever happened in the transaction before.

    commit=False leaves the transaction open for the caller to add to (a retraction frees the report's
    contents in the same transaction).
    """
    _lease_until.pop(owner, None)
    db.session.rollback()
    db.session.execute(
        update(ExternalReport)
        .where(ExternalReport.id == report_id, ExternalReport.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None, updated_at=utcnow(), **values)
    )
    if commit:
        db.session.commit()
