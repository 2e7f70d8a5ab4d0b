"""The whole audit log checked against its signed checkpoints (`flask audit verify`); its state for the page.

`verify()` trusts nothing stored but the console's public key. It checks, and stops at the first failure:

1. the checkpoints: each signed by the key (a forged or altered one fails), each naming the one before it
   (`prev`: none removed, replaced or reordered), sizes growing, and their columns saying what they sign;
2. every sealed event, in log order: its content hash recomputed from its stored content (an edited event
   fails, named), equal to the tree's leaf at its position (an event moved, swapped, or rewritten together
   with its hash fails), no position without its event or its leaf (a deleted event, a deleted leaf);
3. the tree: every stored subtree equal to the one recomputed from the events (proofs read them), and at each
   checkpoint's size the root recomputed from the events equal to the signed root (a tree rewritten to match
   rewritten events fails here: the signature cannot be rewritten without the key). Checkpoints are all
   prefixes of the one sequence of events, which is what consistency between them means; `flask audit prove
   --consistency` hands the RFC 9162 proof between any two to an outside verifier;
4. the end: the tree and the events end where the last checkpoint says (the newest events deleted fails).

Events not sealed yet (the unsealed tail, normally under two seconds old) are counted, not judged: until the
sealer covers them, the log cannot vouch for them, and someone with the database could still change or drop
them — the price of sealing off the hot path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import DateTime, Text, and_, cast, func, or_, select, type_coerce

from console.audit import HASHED_FIELDS, canonical_stored
from console.evidence import logstore, models, signer
from console.extensions import db
from console.timeutil import utcnow
from console.tlog import checkpoint, merkle

BATCH = 20_000


@dataclass
class Result:
    ok: bool = True
    events_checked: int = 0
    checkpoints_checked: int = 0
    through_size: int = 0  # the tree size found intact from the first event
    through_root: bytes = b""
    tree_size: int = 0  # what the last checkpoint signs
    broken_index: int | None = None
    broken_event_id: int | None = None
    problem: str = ""
    unsealed: int = 0
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        if self.ok:
            return (
                f"audit log intact: {self.events_checked} events in a tree of {self.tree_size}, "
                f"{self.checkpoints_checked} signed checkpoints, root {self.through_root.hex() or '—'}; "
                f"{self.unsealed} event(s) not sealed yet"
            )
        where = f"log index {self.broken_index}" if self.broken_index is not None else "the checkpoints"
        event = f" (event id {self.broken_event_id})" if self.broken_event_id is not None else ""
        return (
            f"audit log BROKEN at {where}{event}: {self.problem}. "
            f"Intact through tree size {self.through_size}."
        )


class _Broken(Exception):
    def __init__(self, problem: str, index: int | None = None, event_id: int | None = None):
        super().__init__(problem)
        self.problem, self.index, self.event_id = problem, index, event_id


@dataclass
class _Checkpoints:
    sizes: list[int] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)


def _check_checkpoints(key) -> _Checkpoints:
    table = logstore.CHECKPOINTS
    out, prev, expected_id = _Checkpoints(), None, 1
    rows = db.session.execute(
        select(table.c.id, table.c.tree_size, table.c.root, table.c.note).order_by(table.c.id)
    )
    for row in rows:
        label = f"checkpoint #{row.id} (size {row.tree_size})"
        if row.id != expected_id:
            raise _Broken(f"checkpoint #{expected_id} is missing (the next is #{row.id}): it was deleted")
        try:
            signed = checkpoint.open_note(row.note, key.public_key, key.origin)
        except merkle.ProofError as e:
            raise _Broken(f"{label}: {e}") from e
        if signed.size != row.tree_size or signed.root != bytes(row.root):
            raise _Broken(f"{label}: its columns do not say what its signed note signs (changed)")
        if signed.prev != prev:
            raise _Broken(
                f"{label} does not name the checkpoint before it: one was removed, replaced or reordered"
            )
        if out.sizes and signed.size <= out.sizes[-1]:
            raise _Broken(f"{label} does not grow the tree (the one before signs {out.sizes[-1]})")
        out.sizes.append(signed.size)
        out.roots[signed.size] = signed.root
        prev, expected_id = _digest(row.note), expected_id + 1
    return out


def _digest(note: str) -> bytes:  # what the next checkpoint's `prev` must be
    return checkpoint.Checkpoint.parse(checkpoint.body_of(note)).digest()


def _stored_subtrees(start: int, end: int) -> dict[tuple[int, int], bytes]:
    """The stored subtrees of level ≥ 1 that fill while leaves start…end-1 are appended, in one query."""
    nodes, clauses = logstore.NODES, []
    for level in range(1, end.bit_length() + 1):
        # (level, p) fills with leaf (p + 1) * 2**level - 1.
        low, high = ((start + (1 << level)) >> level) - 1, (end >> level) - 1
        if high >= low:
            clauses.append(and_(nodes.c.level == level, nodes.c.position.between(low, high)))
    if not clauses:
        return {}
    rows = db.session.execute(select(nodes.c.level, nodes.c.position, nodes.c.hash).where(or_(*clauses)))
    return {(r.level, r.position): bytes(r.hash) for r in rows}


def _walk(result: Result, points: _Checkpoints, batch: int) -> None:
    events, nodes = logstore.EVENTS, logstore.NODES
    # The details as their stored text: spliced into the event's bytes, not parsed and encoded again.
    # The time as the driver gives it (canonical_stored makes it UTC), without the UTCDateTime round trip.
    columns = {
        "at": type_coerce(events.c.at, DateTime(timezone=True)),
        "details": cast(events.c.details, Text),
    }
    content = [columns.get(name, events.c[name]) for name in HASHED_FIELDS]
    size = points.sizes[-1] if points.sizes else 0
    edge, start = merkle.Edge(), 0
    pending_sizes = iter(points.sizes)
    next_size = next(pending_sizes, None)
    while start < size:
        end = min(start + batch, size)
        rows = {
            r[0]: r
            for r in db.session.execute(
                select(events.c.log_index, events.c.id, events.c.content_hash, *content).where(
                    events.c.log_index >= start, events.c.log_index < end
                )
            ).all()
        }
        leaves = {
            position: bytes(value)
            for position, value in db.session.execute(
                select(nodes.c.position, nodes.c.hash).where(
                    nodes.c.level == 0, nodes.c.position >= start, nodes.c.position < end
                )
            ).all()
        }
        stored = _stored_subtrees(start, end)
        db.session.rollback()  # short transactions: on SQLite an open one holds the write lock
        for index in range(start, end):
            row, leaf = rows.get(index), leaves.get(index)
            if row is None and leaf is None:
                raise _Broken(
                    f"the event sealed here and its leaf were deleted (the last checkpoint signs {size})",
                    index,
                )
            if row is None:
                raise _Broken(
                    "no event is at this position any more (deleted, or its log index removed)", index
                )
            if leaf is None:
                raise _Broken("the tree's leaf for this event was deleted", index, row[1])
            recomputed = merkle.leaf_hash(canonical_stored(*row[3:]))
            if recomputed != leaf:
                if recomputed.hex() != row[2]:
                    problem = "the event's stored content does not match its content hash (it was edited)"
                else:
                    problem = (
                        "the event is not the one sealed at this position (moved, swapped, or rewritten "
                        "together with its content hash)"
                    )
                raise _Broken(problem, index, row[1])
            for level, position, value in edge.append(recomputed):
                if level and stored.get((level, position)) != value:
                    first = position << level
                    raise _Broken(
                        f"the tree's stored subtree over positions {first}–{first + (1 << level) - 1} was "
                        "changed or deleted (proofs would not verify)",
                        first,
                    )
            result.events_checked += 1
            if edge.size == next_size:
                if edge.root() != points.roots[next_size]:
                    raise _Broken(
                        f"the events up to here do not give the root the checkpoint of size {next_size} "
                        "signs: the tree was rewritten",
                        index,
                        row[1],
                    )
                result.through_size, result.through_root = edge.size, points.roots[next_size]
                result.checkpoints_checked += 1
                next_size = next(pending_sizes, None)
        start = end


def verify(batch: int = BATCH) -> Result:
    """Check the whole log; stop at the first failure and name it."""
    started = time.perf_counter()
    result = Result()
    db.session.rollback()
    try:
        key = signer.current()
        points = _check_checkpoints(key)
        result.tree_size = points.sizes[-1] if points.sizes else 0
        db.session.rollback()
        _walk(result, points, batch)
        _check_end(result.tree_size)
    except _Broken as broken:
        result.ok, result.problem = False, broken.problem
        result.broken_index, result.broken_event_id = broken.index, broken.event_id
    db.session.rollback()
    result.unsealed = tail().count
    result.seconds = time.perf_counter() - started
    return result


def _check_end(size: int) -> None:
    events = logstore.EVENTS
    beyond = db.session.execute(
        select(events.c.id, events.c.log_index).where(events.c.log_index >= size).order_by(events.c.log_index)
    ).first()
    if beyond is not None:
        raise _Broken("the event has a log index no checkpoint covers", beyond.log_index, beyond.id)
    leaves = logstore.stored_size()
    if leaves > size:
        raise _Broken(f"the tree holds {leaves} leaves, beyond the last checkpoint's {size}", size)


def verify_and_record(actor_label: str = "system") -> Result:
    """verify(), and keep the outcome for the audit log page."""
    result = verify()
    db.session.add(
        models.LogVerification(
            seconds=result.seconds,
            actor_label=actor_label,
            ok=result.ok,
            events_checked=result.events_checked,
            checkpoints_checked=result.checkpoints_checked,
            through_size=result.through_size,
            through_root=result.through_root.hex(),
            broken_index=result.broken_index,
            broken_event_id=result.broken_event_id,
            problem=result.problem[:2000],
        )
    )
    db.session.commit()
    return result


# --- what the audit log page shows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tail:
    count: int
    oldest: datetime | None

    @property
    def seconds(self) -> float:
        return (utcnow() - self.oldest).total_seconds() if self.oldest else 0.0


def tail() -> Tail:
    events = logstore.EVENTS
    count, oldest = db.session.execute(
        select(func.count(), func.min(events.c.at)).where(events.c.log_index.is_(None))
    ).one()
    if oldest is not None and oldest.tzinfo is None:  # SQLite: min() returns the stored naive UTC
        oldest = oldest.replace(tzinfo=UTC)
    return Tail(count, oldest)


@dataclass(frozen=True)
class Status:
    head: logstore.Head | None
    tail: Tail
    last: models.LogVerification | None
    verifier_key: str
    public_pem: str


def status() -> Status:
    runs = models.LogVerification
    last = db.session.scalar(select(runs).order_by(runs.id.desc()).limit(1))
    key = signer.current()
    return Status(logstore.latest_checkpoint(), tail(), last, key.verifier_key(), key.public_pem())
