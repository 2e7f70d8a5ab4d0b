"""The audit log's sealer (Trillian's sequencer): unsealed events become leaves under a signed checkpoint.

`seal()` runs every second from `rq cron` (jobs/evidence.py) and from `flask audit seal`. Each batch is one
transaction: read the last checkpoint, take the unsealed events (log_index NULL, a small partial index) in id
order, append their content hashes to the tree's right edge, and write — the new checkpoint first, then the
subtrees the new leaves filled, then each event's log_index.

Positions are the sealer's, given in the order it seals: on PostgreSQL a lower id can become visible after a
higher one (ids are numbered at INSERT, rows seen at COMMIT), and such an event is simply still unsealed at
the next run, whatever its id. Nothing is skipped and nothing waits for a gap to fill.

One sealer at a time, safely: on PostgreSQL a second sealer finds the transaction-level advisory lock taken
and leaves (on SQLite every write transaction holds the database's write lock, console/database.py). Should
two ever run at once anyway, they cannot fork the log: both would write checkpoint id = last + 1 and the
same tree_size, node positions and log indexes, all unique, so the second's transaction fails whole.

The sealer refuses to go on when the tree's storage does not end where the last checkpoint says (a tree cut
or extended behind its back): sealing on top would bury the evidence; `flask audit verify` names the damage.
"""

from __future__ import annotations

import logging
import time

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from console.evidence import logstore, signer
from console.extensions import db
from console.timeutil import utcnow
from console.tlog import checkpoint, merkle

log = logging.getLogger(__name__)

BATCH = 5000  # events per transaction and checkpoint
ZERO = bytes(32)
_LOCK = 0x6175646974  # "audit": the advisory lock's key, the same for every sealer of this database


class SealError(RuntimeError):
    """The tree's storage and the last checkpoint disagree: sealing stops until someone looks."""


def seal(batch: int = BATCH, max_seconds: float = 50.0) -> int:
    """Seal every unsealed event (in batches, each with its checkpoint); returns how many were sealed."""
    started, total = time.monotonic(), 0
    while True:
        sealed = seal_batch(batch)
        total += sealed
        if sealed < batch or time.monotonic() - started > max_seconds:
            return total


def _leaf(content_hash: str) -> bytes:
    try:
        leaf = bytes.fromhex(content_hash or "")
    except ValueError:
        leaf = b""
    # A malformed hash (an event written around the console) is sealed as zeros: verify names the event.
    return leaf if len(leaf) == merkle.HASH_SIZE else ZERO


def _locked(session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already holds the write lock
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK}).scalar())


def _number(session, ids: list[int], first: int) -> int:
    """Give these events log indexes first, first + 1, … (in this order); returns how many rows changed."""
    events = logstore.EVENTS
    if session.get_bind().dialect.name == "postgresql":
        # One statement for the batch (arrays), not one per event.
        return session.execute(
            text(
                "UPDATE audit_events AS e SET log_index = :first + v.n - 1 "
                "FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS v(id, n) "
                "WHERE e.id = v.id AND e.log_index IS NULL"
            ),
            {"ids": ids, "first": first},
        ).rowcount
    return session.execute(
        update(events)
        .where(events.c.id == bindparam("b_id"), events.c.log_index.is_(None))
        .values(log_index=bindparam("b_index")),
        [{"b_id": event_id, "b_index": first + i} for i, event_id in enumerate(ids)],
    ).rowcount


def seal_batch(limit: int = BATCH) -> int:
    """One transaction: up to `limit` unsealed events into the tree, and a checkpoint. Returns how many."""
    session = db.session
    try:
        if not _locked(session):
            session.rollback()
            return 0  # another sealer is at work; it seals these too
        head, stored = logstore.head_and_stored_size()
        size = head.tree_size if head else 0
        if stored != size:
            raise SealError(
                f"the audit log's tree holds {stored} leaves but its last checkpoint signs {size}: "
                "the tree was changed outside the sealer; run `flask audit verify`"
            )
        events = logstore.EVENTS
        rows = session.execute(
            select(events.c.id, events.c.content_hash)
            .where(events.c.log_index.is_(None))
            .order_by(events.c.id)
            .limit(limit)
        ).all()
        if not rows:
            session.rollback()
            return 0
        edge = logstore.edge(size)
        nodes = []
        for row in rows:
            nodes += edge.append(_leaf(row.content_hash))
        key = signer.current()
        now = utcnow()
        prev = checkpoint.Checkpoint.parse(checkpoint.body_of(head.note)).digest() if head else None
        body = checkpoint.Checkpoint(key.origin, edge.size, edge.root(), prev, now).body()
        # The checkpoint first: a sealer that raced this one fails here, before writing anything else.
        session.execute(
            insert(logstore.CHECKPOINTS).values(
                id=(head.id + 1) if head else 1,
                tree_size=edge.size,
                root=edge.root(),
                sealed_at=now,
                key_hash=key.key_hash,
                note=key.sign(body),
            )
        )
        session.execute(
            insert(logstore.NODES), [{"level": lv, "position": pos, "hash": h} for lv, pos, h in nodes]
        )
        done = _number(session, [row.id for row in rows], size)
        if done != len(rows):
            raise SealError(f"{len(rows) - done} of the events being sealed changed under the sealer")
        session.commit()
    except IntegrityError:
        session.rollback()
        log.info("audit log: another sealer wrote this checkpoint first; nothing sealed here")
        return 0
    except Exception:
        session.rollback()
        raise
    return len(rows)
