"""The audit log's storage (Trillian's append-only storage): tree nodes, checkpoints, proofs read from them.

Three kinds of rows, none ever updated: the events themselves (console/audit.py; the sealer sets an event's
`log_index` once), the tree's perfect subtrees (`audit_log_nodes`, level 0 = leaves) and the signed
checkpoints (`audit_log_checkpoints`). A root or a proof for any size reads O(log n) node rows
(console/tlog/merkle.py); nothing here hashes more than the proof itself needs.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from console.audit import HASHED_FIELDS, AuditEvent, canonical
from console.evidence import signer
from console.evidence.models import AuditCheckpoint, AuditLogNode
from console.extensions import db
from console.tlog import merkle, verify

EVENTS, NODES, CHECKPOINTS = AuditEvent.__table__, AuditLogNode.__table__, AuditCheckpoint.__table__


class ProofUnavailable(LookupError):
    """No proof can be made: the event does not exist, is not sealed yet, or no checkpoint covers it."""


def event_columns():
    return [EVENTS.c[name] for name in HASHED_FIELDS]


# --- nodes ------------------------------------------------------------------------------------------------


def read_nodes(keys: Iterable[tuple[int, int]], connection=None) -> dict[tuple[int, int], bytes]:
    """The stored hashes of these perfect subtrees, in one query."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, position in keys:
        by_level.setdefault(level, []).append(position)
    where = or_(
        *(
            and_(NODES.c.level == level, NODES.c.position.in_(positions))
            for level, positions in by_level.items()
        )
    )
    rows = (connection or db.session).execute(
        select(NODES.c.level, NODES.c.position, NODES.c.hash).where(where)
    )
    return {(row.level, row.position): bytes(row.hash) for row in rows}


def edge(size: int, connection=None) -> merkle.Edge:
    """The right edge of the stored tree of `size` leaves, ready to append to."""
    keys = merkle.Edge.keys(size)
    stored = read_nodes(keys, connection)
    missing = [key for key in keys if key not in stored]
    if missing:
        raise LookupError(f"the tree of size {size} lacks its stored subtree(s) {missing}: rewritten or cut")
    return merkle.Edge(size, [stored[key] for key in keys])


def stored_size(connection=None) -> int:
    """Leaves in the tree's storage (the last leaf's position + 1)."""
    top = (connection or db.session).execute(select(func.max(NODES.c.position)).where(NODES.c.level == 0))
    value = top.scalar()
    return 0 if value is None else value + 1


def _hashes(ranges, connection=None) -> list[bytes]:
    stored = read_nodes(merkle.needed(ranges), connection)
    return [merkle.range_hash(start, end, stored) for start, end in ranges]


# --- checkpoints ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    id: int
    tree_size: int
    root: bytes
    sealed_at: datetime
    key_hash: str
    note: str


def _head(row) -> Head:
    return Head(row.id, row.tree_size, bytes(row.root), row.sealed_at, row.key_hash, row.note)


def head_and_stored_size() -> tuple[Head | None, int]:
    """The last checkpoint and the tree's stored size, read in one statement (one snapshot on PostgreSQL)."""
    top = select(func.max(NODES.c.position)).where(NODES.c.level == 0).scalar_subquery()
    columns = [CHECKPOINTS.c[c] for c in ("id", "tree_size", "root", "sealed_at", "key_hash", "note")]
    row = db.session.execute(
        select(*columns, top.label("top")).select_from(CHECKPOINTS).order_by(CHECKPOINTS.c.id.desc()).limit(1)
    ).first()
    if row is None:  # no checkpoint: the tree must be empty
        return None, stored_size()
    return _head(row), 0 if row.top is None else row.top + 1


def latest_checkpoint(connection=None) -> Head | None:
    columns = [CHECKPOINTS.c[c] for c in ("id", "tree_size", "root", "sealed_at", "key_hash", "note")]
    row = (
        (connection or db.session)
        .execute(select(*columns).order_by(CHECKPOINTS.c.id.desc()).limit(1))
        .first()
    )
    return _head(row) if row else None


def checkpoint_of_size(size: int) -> Head | None:
    columns = [CHECKPOINTS.c[c] for c in ("id", "tree_size", "root", "sealed_at", "key_hash", "note")]
    row = db.session.execute(select(*columns).where(CHECKPOINTS.c.tree_size == size)).first()
    return _head(row) if row else None


# --- proofs -----------------------------------------------------------------------------------------------


def prove_inclusion(event_id: int, size: int | None = None) -> dict:
    """The inclusion proof of an event against the latest checkpoint (or the one of `size`), as JSON data.

    The proof is checked with the public key before it is handed out: a proof for an event whose stored
    content was changed would not verify, and the error says so.
    """
    row = db.session.execute(
        select(EVENTS.c.log_index, *event_columns()).where(EVENTS.c.id == event_id)
    ).first()
    if row is None:
        raise ProofUnavailable(f"no audit event {event_id}")
    if row.log_index is None:
        raise ProofUnavailable(f"audit event {event_id} is not sealed yet (the sealer runs every second)")
    head = checkpoint_of_size(size) if size is not None else latest_checkpoint()
    if head is None:
        raise ProofUnavailable(f"no checkpoint of size {size}" if size is not None else "no checkpoint yet")
    if row.log_index >= head.tree_size:
        raise ProofUnavailable(
            f"the checkpoint of size {head.tree_size} does not cover log index {row.log_index}"
        )
    path = _hashes(merkle.inclusion_ranges(row.log_index, head.tree_size))
    proof = {
        "format": verify.INCLUSION,
        "event_id": event_id,  # for people: what is proven is the event's bytes at leaf_index
        "event": canonical(row._mapping).decode("ascii"),
        "leaf_index": row.log_index,
        "tree_size": head.tree_size,
        "inclusion_path": [base64.b64encode(h).decode() for h in path],
        "checkpoint": head.note,
    }
    try:
        verify.check_inclusion(proof, signer.current().public_key)
    except merkle.ProofError as e:
        raise ProofUnavailable(
            f"the proof of audit event {event_id} does not verify ({e}): the log was changed; "
            "run `flask audit verify`"
        ) from e
    return proof


def prove_consistency(first: int, second: int | None = None) -> dict:
    """The consistency proof between the checkpoints of sizes `first` and `second` (default: the latest)."""
    older = checkpoint_of_size(first)
    newer = checkpoint_of_size(second) if second is not None else latest_checkpoint()
    if older is None or newer is None:
        raise ProofUnavailable(f"no checkpoint of size {first if older is None else second}")
    if newer.tree_size < older.tree_size:
        older, newer = newer, older
    path = _hashes(merkle.consistency_ranges(older.tree_size, newer.tree_size)) if older.tree_size else []
    return {
        "format": verify.CONSISTENCY,
        "first": older.note,
        "second": newer.note,
        "consistency_path": [base64.b64encode(h).decode() for h in path],
    }
