"""The tamper-evident audit log: every audit event is a link in one SHA-256 hash chain.

Each event gets a link row (`audit_chain_links`): its position in the chain (`seq`, 1, 2, 3…), the hash of the
event before it, and its own hash — SHA-256 of a canonical JSON of the event's stored content (id, time, who,
action, object, case, details) together with its position and the previous hash. Changing any stored value of
an event changes its hash; deleting an event leaves its link without an event, or a hole in the positions;
deleting the newest events leaves the chain shorter than its head (`audit_chain_head`) says. `verify()` walks
the chain and names the first broken link.

When: an event is linked right after the transaction that recorded it commits. The transaction writes the
event and a row in `audit_chain_pending` (no lock: writers stay parallel and their commits can share a disk
flush); then, after its commit, the writer links every pending event in a short transaction of its own that
holds the head's lock (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every write transaction holds the
database's write lock, `BEGIN IMMEDIATE`, console/database.py). One linker at a time, so the chain stays
linear; under contention one linker links the events of many writers at once, and the others find theirs
linked already. Chain order is therefore the order of linking (id order within a batch), which can differ
slightly from id order; the audit log still lists by id. A linker that fails (the process killed between the
two commits) leaves its events pending: the next one links them, and so does `verify_and_record` before it
walks. Linking in the recording transaction instead held the head's lock across that transaction's commit and
cut the throughput of 20 concurrent writers on PostgreSQL to a quarter (bench/audit_chain.py).

The content is hashed as read back from the database (the types verify() reads: no float or datetime can
differ). Events older than the chain were linked, in id order, by its migration (0006_evidence). Whoever can
rewrite the database can rewrite a chain: write the head hash down elsewhere too (the audit log page and
`flask audit verify` show it).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, event, insert, select, update
from sqlalchemy.orm import Session, object_session

from console.audit import AuditEvent
from console.evidence import models
from console.evidence.models import GENESIS, HEAD_ID, AuditChainHead, AuditChainLink, AuditChainPending
from console.extensions import db

log = logging.getLogger(__name__)

# Session.info keys: the events this transaction recorded; the same once it has committed.
_PENDING, _COMMITTED = "audit_chain_pending", "audit_chain_committed"
BATCH = 1000  # events linked per linking transaction


# --- the canonical content and its hash ---------------------------------------------------------------------

HASHED_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "details",
)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands naive UTC back when read without the UTCDateTime type
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(values: Mapping, seq: int, prev_hash: str) -> bytes:
    """The bytes hashed for one event: sorted-key, ASCII-only JSON, times in UTC to the microsecond."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["at"] = _iso(content["at"])
    content["details"] = content["details"] if content["details"] is not None else {}
    content["seq"] = seq
    content["prev"] = prev_hash
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def event_hash(values: Mapping, seq: int, prev_hash: str) -> str:
    return hashlib.sha256(canonical(values, seq, prev_hash)).hexdigest()


def _event_columns():
    table = AuditEvent.__table__
    return [table.c[name] for name in HASHED_FIELDS]


# --- linking, right after every transaction that records events --------------------------------------------

enabled = True  # bench/audit_chain.py switches it off to measure the cost; nothing else does


@event.listens_for(AuditEvent, "after_insert")
def _pend(_mapper, connection, target: AuditEvent) -> None:
    if not enabled:
        return
    connection.execute(insert(AuditChainPending.__table__).values(event_id=target.id))
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_PENDING, []).append(target.id)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: its events are linked when the whole transaction has committed
    if session.info.get(_PENDING):
        session.info[_COMMITTED] = session.info.pop(_PENDING)


@event.listens_for(Session, "after_transaction_end")
def _link_when_done(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    session.info.pop(_PENDING, None)  # rolled back: nothing of it exists
    ids = session.info.pop(_COMMITTED, None)
    bind = session.get_bind()
    # A session inside someone else's transaction (the worker's warm-up) has only committed a savepoint: its
    # events are linked after whoever commits the whole.
    if ids and isinstance(bind, Engine):
        # Here the transaction's connection is back in the pool: linking never needs a second one.
        link_pending(bind, ids)


def link_pending(engine, mine: Iterable[int] | None = None) -> int:
    """Link every pending event, in transactions of its own. Never raises: what fails stays pending.

    `mine`: the events the caller just committed; when another linker has already linked them all, there is
    nothing to wait for.
    """
    mine = list(mine) if mine is not None else None
    linked = 0
    try:
        with engine.connect() as connection:
            for _batch in range(100):
                with connection.begin():
                    if mine is not None and not _still_pending(connection, mine):
                        break
                    seq, prev = _lock_head(connection)
                    ids = _pending_batch(connection)
                    # While we waited for the lock, the linker before us may have linked ours with its own:
                    # then we leave at once (a commit that wrote nothing costs no disk flush).
                    if mine is not None and len(ids) < BATCH and not set(mine) & set(ids):
                        break
                    done = _link_batch(connection, seq, prev, ids)
                linked += done
                if done < BATCH:
                    break
    except Exception:
        log.exception("audit chain: pending events not linked now; the next commit links them")
    return linked


def _lock_head(connection) -> tuple[int, str]:
    """The head under a lock held until the transaction ends: (its seq, its hash). Creates it when missing."""
    head = AuditChainHead.__table__
    query = select(head.c.seq, head.c.last_hash).where(head.c.id == HEAD_ID).with_for_update()
    row = connection.execute(query).first()
    if row is None:
        # No head: a new database (or the tests' cleaning). Start after the newest link, if any, so that a
        # lost head never forks the chain.
        links = AuditChainLink.__table__
        last = connection.execute(
            select(links.c.seq, links.c.hash, links.c.event_id).order_by(links.c.seq.desc()).limit(1)
        ).first()
        seq, last_hash, event_id = last if last else (0, GENESIS, None)
        # Two first writers at once: the second waits for the first's row, then leaves it as it is.
        connection.execute(
            _insert_if_absent(connection)(head)
            .values(id=HEAD_ID, seq=seq, last_hash=last_hash, last_event_id=event_id)
            .on_conflict_do_nothing()
        )
        row = connection.execute(query).first()
    return row.seq, row.last_hash


def _insert_if_absent(connection):
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert


def _still_pending(connection, ids: list[int]) -> bool:
    pending = AuditChainPending.__table__
    return (
        connection.execute(select(pending.c.event_id).where(pending.c.event_id.in_(ids)).limit(1)).first()
        is not None
    )


def _pending_batch(connection) -> list[int]:
    pending = AuditChainPending.__table__
    return list(
        connection.execute(select(pending.c.event_id).order_by(pending.c.event_id).limit(BATCH)).scalars()
    )


def _link_batch(connection, seq: int, prev: str, ids: list[int]) -> int:
    """Under the head's lock (at `seq`, `prev`): append these pending events to the chain, in id order."""
    if not ids:
        return 0
    events, pending = AuditEvent.__table__, AuditChainPending.__table__
    rows = connection.execute(select(*_event_columns()).where(events.c.id.in_(ids)).order_by(events.c.id))
    links = []
    for row in rows.mappings():
        seq += 1
        digest = event_hash(row, seq, prev)
        links.append({"event_id": row["id"], "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    connection.execute(insert(AuditChainLink.__table__), links)
    connection.execute(pending.delete().where(pending.c.event_id.in_(ids)))
    head = AuditChainHead.__table__
    connection.execute(
        update(head)
        .where(head.c.id == HEAD_ID)
        .values(seq=seq, last_hash=prev, last_event_id=links[-1]["event_id"])
    )
    return len(links)


# --- verification -------------------------------------------------------------------------------------------


@dataclass
class Result:
    ok: bool
    events_checked: int
    through_seq: int  # the last position found intact
    through_hash: str
    head_seq: int
    broken_seq: int | None = None
    broken_event_id: int | None = None
    problem: str = ""
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        if self.ok:
            return (
                f"audit chain intact: {self.events_checked} events, positions 1–{self.through_seq}, "
                f"head hash {self.through_hash}"
            )
        return (
            f"audit chain BROKEN at position {self.broken_seq}"
            + (f" (event id {self.broken_event_id})" if self.broken_event_id is not None else "")
            + f": {self.problem}. Intact through position {self.through_seq}."
        )


def verify(batch: int = 5000) -> Result:
    """Walk the whole chain from position 1 and stop at the first broken link.

    Broken means one of: an event whose stored content no longer gives its hash (edited), a link whose event
    is gone (deleted), a position missing (an event deleted with its link), a link that does not name the
    previous hash, an event without a link (inserted outside the console), or a head that is not the last
    link (the newest events deleted).
    """
    started = time.perf_counter()
    events, links, heads = AuditEvent.__table__, AuditChainLink.__table__, AuditChainHead.__table__
    head = db.session.execute(select(heads.c.seq, heads.c.last_hash).where(heads.c.id == HEAD_ID)).first()
    head_seq, head_hash = (head.seq, head.last_hash) if head else (0, GENESIS)
    prev, expected, checked = GENESIS, 1, 0

    def broken(problem: str, seq: int | None, event_id: int | None) -> Result:
        db.session.rollback()
        return Result(
            False,
            checked,
            expected - 1,
            prev,
            head_seq,
            seq,
            event_id,
            problem,
            time.perf_counter() - started,
        )

    columns = [links.c.seq, links.c.event_id, links.c.prev_hash, links.c.hash, events.c.id.label("present")]
    columns += [c.label(f"e_{c.name}") for c in _event_columns()]
    after = 0
    while True:
        rows = db.session.execute(
            select(*columns)
            .select_from(links.outerjoin(events, events.c.id == links.c.event_id))
            .where(links.c.seq > after)
            .order_by(links.c.seq)
            .limit(batch)
        ).all()
        # Each batch is its own short transaction: on SQLite a transaction holds the write lock.
        db.session.rollback()
        if not rows:
            break
        for row in rows:
            if row.seq != expected:
                return broken(
                    f"position {expected} is missing (the next link is position {row.seq}, event id "
                    f"{row.event_id}): an event was deleted",
                    expected,
                    None,
                )
            if row.present is None:
                return broken(
                    f"event id {row.event_id} was deleted (its link remains)", row.seq, row.event_id
                )
            if row.prev_hash != prev:
                return broken(
                    "the link does not name the previous event's hash (a link was changed or replaced)",
                    row.seq,
                    row.event_id,
                )
            values = {name: getattr(row, f"e_{name}") for name in HASHED_FIELDS}
            if event_hash(values, row.seq, prev) != row.hash:
                return broken(
                    "the event's stored content does not match its hash (the event or its link was edited)",
                    row.seq,
                    row.event_id,
                )
            prev, expected, checked = row.hash, expected + 1, checked + 1
        after = rows[-1].seq
    if head_seq != expected - 1 or (head_seq and head_hash != prev):
        return broken(
            f"the chain head says position {head_seq} but the chain ends at position {expected - 1}: "
            "the newest events were deleted (or the head was changed)",
            expected - 1 if head_seq < expected - 1 else head_seq,
            None,
        )
    pending = AuditChainPending.__table__
    unlinked = db.session.execute(
        select(events.c.id)
        .select_from(
            events.outerjoin(links, links.c.event_id == events.c.id).outerjoin(
                pending, pending.c.event_id == events.c.id
            )
        )
        .where(links.c.event_id.is_(None), pending.c.event_id.is_(None))
        .order_by(events.c.id)
        .limit(1)
    ).scalar()
    db.session.rollback()
    if unlinked is not None:
        return broken(
            f"event id {unlinked} is not in the chain (written outside the console, or its link deleted)",
            None,
            unlinked,
        )
    return Result(True, checked, expected - 1, prev, head_seq, seconds=time.perf_counter() - started)


def verify_and_record(actor_label: str = "system") -> Result:
    """Link what is pending, verify(), and keep the outcome for the audit log page."""
    db.session.rollback()
    link_pending(db.engine)
    result = verify()
    db.session.add(
        models.ChainVerification(
            seconds=result.seconds,
            actor_label=actor_label,
            ok=result.ok,
            events_checked=result.events_checked,
            through_seq=result.through_seq,
            through_hash=result.through_hash,
            broken_seq=result.broken_seq,
            broken_event_id=result.broken_event_id,
            problem=result.problem[:2000],
        )
    )
    db.session.commit()
    return result


# --- what the audit log page shows --------------------------------------------------------------------------


@dataclass
class Status:
    head_seq: int
    head_hash: str
    last: models.ChainVerification | None

    @property
    def unverified(self) -> int:
        """Events linked since the last verification that found the chain intact."""
        return max(self.head_seq - (self.last.through_seq if self.last and self.last.ok else 0), 0)


def status() -> Status:
    head = db.session.get(AuditChainHead, HEAD_ID)
    runs = models.ChainVerification
    last = db.session.scalar(select(runs).order_by(runs.id.desc()).limit(1))
    return Status(head.seq if head else 0, head.last_hash if head else GENESIS, last)
