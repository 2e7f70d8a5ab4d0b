"""The tamper-evident audit log: every audit event is a link in one SHA-256 hash chain.

Each event gets a link row (`audit_chain_links`): its position in the chain (`seq`, 1, 2, 3…), the hash of the
event before it, and its own hash — SHA-256 of a canonical JSON of the event's stored content (id, time, who,
action, object, case, details) together with its position and the previous hash. Changing any stored value of
an event changes its hash; deleting an event leaves its link without an event, or a hole in the positions;
deleting the newest events leaves the chain shorter than its head (`audit_chain_head`) says. `verify()` walks
the chain and names the first broken link.

When: the events a transaction added are linked in its last step, just before its outermost commit (a session
`before_commit` listener), in the order of their ids. Linking reads the head under a lock, so one transaction
links at a time and the chain stays linear: on PostgreSQL the head row's lock (`SELECT … FOR UPDATE`) is held
from there to the commit; on SQLite every write transaction already holds the database's write lock
(`BEGIN IMMEDIATE`, console/database.py). Taking the lock at the very end, after every other row lock the
transaction holds, keeps it short and can never deadlock with them. Chain order is therefore commit order,
which on PostgreSQL can differ slightly from id order; the audit log still lists by id.

The canonical content is hashed as read back from the database (the same types verify() reads), so what is
stored and what is verified can never differ by a float's or a datetime's representation.

The events that existed before the chain were linked by the migration that created it (0006_evidence), in
id order, so the chain starts at the first event ever recorded.

A hash chain proves that nothing changed since a hash was seen: someone who can rewrite the database can also
rewrite every later hash. Write the head hash down somewhere else (the audit log page shows it; `flask audit
verify` prints it) to make that detectable too.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session

from console.audit import AuditEvent
from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

GENESIS = "0" * 64
HEAD_ID = 1
_PENDING = "audit_chain_pending"  # Session.info key: ids of events this transaction inserted, not yet linked
BATCH = 5000


class AuditChainLink(db.Model):
    """An audit event's place in the chain. Never updated; written in the event's own transaction."""

    __tablename__ = "audit_chain_links"

    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(db.Model):
    """One row: the newest link. Its lock serialises linking; it shows whether the newest events vanished."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    last_event_id: Mapped[int | None]


class ChainVerification(db.Model):
    """One run of verify(): how far the chain was found intact, or where it broke."""

    __tablename__ = "audit_chain_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    actor_label: Mapped[str] = mapped_column(String(120), default="")
    ok: Mapped[bool] = mapped_column(default=False)
    events_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    # The last position found intact (0: none) and the head's hash there.
    through_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    through_hash: Mapped[str] = mapped_column(String(64), default="")
    broken_seq: Mapped[int | None] = mapped_column(BigInteger)
    broken_event_id: Mapped[int | None]
    problem: Mapped[str] = mapped_column(String(2000), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


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


# --- linking, in every transaction that records events ------------------------------------------------------

enabled = True  # bench/audit_chain.py switches it off to measure the cost; nothing else does


@event.listens_for(AuditEvent, "after_insert")
def _remember(_mapper, _connection, target: AuditEvent) -> None:
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_PENDING, []).append(target.id)


@event.listens_for(Session, "before_commit")
def _link_before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the events are linked when the whole transaction commits
    if not session.info.get(_PENDING) and not session.new:
        return
    session.flush()  # events still pending in the session are inserted (and remembered) now
    ids = session.info.pop(_PENDING, None)
    if ids and enabled:
        link(session.connection(), ids)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


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


def link(connection, event_ids: Iterable[int]) -> int:
    """Append these events (those that still exist: a savepoint may have undone some) to the chain."""
    wanted = sorted(set(event_ids))
    seq, prev = _lock_head(connection)
    rows = connection.execute(
        select(*_event_columns())
        .where(AuditEvent.__table__.c.id.in_(wanted))
        .order_by(AuditEvent.__table__.c.id)
    ).mappings()
    links = []
    for row in rows:
        seq += 1
        digest = event_hash(row, seq, prev)
        links.append({"event_id": row["id"], "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    if links:
        connection.execute(insert(AuditChainLink.__table__), links)
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


def verify(batch: int = BATCH) -> Result:
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
    unlinked = db.session.execute(
        select(events.c.id)
        .select_from(events.outerjoin(links, links.c.event_id == events.c.id))
        .where(links.c.event_id.is_(None))
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
    """verify(), and keep the outcome for the audit log page."""
    result = verify()
    db.session.add(
        ChainVerification(
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
    last: ChainVerification | None

    @property
    def unverified(self) -> int:
        """Events linked since the last verification that found the chain intact."""
        return max(self.head_seq - (self.last.through_seq if self.last and self.last.ok else 0), 0)


def status() -> Status:
    head = db.session.get(AuditChainHead, HEAD_ID)
    last = db.session.scalar(select(ChainVerification).order_by(ChainVerification.id.desc()).limit(1))
    return Status(head.seq if head else 0, head.last_hash if head else GENESIS, last)
