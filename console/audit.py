"""The append-only audit log: who did what to which object, when.

Recording an event is one INSERT in the caller's transaction, carrying the event's own content hash: the
RFC 9162 leaf hash, SHA-256(0x00 ‖ canonical bytes), of its content in a canonical form (sorted-key ASCII
JSON of the time, who, action, object, case and details; `canonical`). No lock, no second transaction,
nothing after the commit. A sealer (console/evidence/sealer.py) later gives every event its place in the
log's Merkle tree (`log_index`, in the order it seals them) and signs a checkpoint over the tree; until
then an event is in the *unsealed tail*. What is hashed is exactly what is stored: the details are stored
as the JSON they hash as, so reading them back gives the same bytes (`flask audit verify` recomputes every
hash).

An event's identity in proofs is its place in the log (`log_index`), not its database id: the id is the order
rows were numbered in, which on PostgreSQL is not the order they became visible, and numbering happens at the
INSERT, after the hash is taken.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

# The content an event's hash covers, in the canonical bytes' keys.
HASHED_FIELDS = ("at", "actor_id", "actor_label", "action", "object_type", "object_id", "case_id", "details")

hashing = True  # bench/audit_log.py switches it off to measure what the content hash costs; nothing else does


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class CanonicalJSON(TypeDecorator):
    """JSON stored as its canonical text (sorted keys, no spaces, ASCII): the very bytes the event hashes.

    So `flask audit verify` splices the stored text into the event's bytes instead of parsing and re-encoding
    every event's details (`canonical_stored`); text rewritten by someone, even to an equal value, fails.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect):
        return lambda value: None if value is None else canonical_json(value)


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_case", "case_id", "id"),
        # The sealer's work list: small, whatever the log's size (an event leaves it when sealed).
        Index(
            "ix_audit_events_unsealed",
            "id",
            postgresql_where="log_index IS NULL",
            sqlite_where="log_index IS NULL",
        ),
        Index(
            "uq_audit_events_log_index",
            "log_index",
            unique=True,
            postgresql_where="log_index IS NOT NULL",
            sqlite_where="log_index IS NOT NULL",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted when it was not a person: "system", "worker", "api:<token name>".
    actor_label: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    details: Mapped[dict] = mapped_column(CanonicalJSON, default=dict)
    # SHA-256(0x00 ‖ canonical(event)), hex: written with the event, never changed.
    content_hash: Mapped[str] = mapped_column(String(64))
    # The event's leaf in the log's Merkle tree (from 0), set once by the sealer; None: not sealed yet.
    log_index: Mapped[int | None] = mapped_column(BigInteger)

    actor = relationship("User")

    @property
    def who(self) -> str:
        return self.actor.name if self.actor else (self.actor_label or "system")


# --- the canonical bytes and the content hash -------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # SQLite hands naive UTC back when read without the UTCDateTime type
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(values: Mapping) -> bytes:
    """The event's bytes in the log: sorted-key, ASCII-only JSON, the time in UTC to the microsecond."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["at"] = _iso(content["at"])
    if content["details"] is None:
        content["details"] = {}
    return canonical_json(content).encode("ascii")


_text = json.encoder.encode_basestring_ascii  # what json.dumps(ensure_ascii=True) writes for a str


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def canonical_stored(
    at, actor_id, actor_label, action, object_type, object_id, case_id, details_text
) -> bytes:
    """`canonical` from the stored columns, the details as their stored text, written out directly (the keys
    in sorted order): what `flask audit verify` computes a million times. tests/evidence check it is equal."""
    return (
        f'{{"action":{_text(action)},"actor_id":{_number(actor_id)},"actor_label":{_text(actor_label)},'
        f'"at":{_text(_iso(at))},"case_id":{_number(case_id)},"details":{details_text or "{}"},'
        f'"object_id":{_text(object_id)},"object_type":{_text(object_type)}}}'
    ).encode("ascii", "replace")


def content_hash(values: Mapping) -> str:
    return hashlib.sha256(b"\x00" + canonical(values)).hexdigest()


def values(
    action: str,
    obj_type: str,
    obj_id: object = "",
    *,
    actor=None,
    actor_label: str = "",
    case_id: int | None = None,
    at: datetime | None = None,
    **details,
) -> dict:
    """An event's column values with its content hash: for `record`, or a Core INSERT of many at once."""
    row = {
        "at": at or utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_label": actor_label,
        "action": action,
        "object_type": obj_type,
        "object_id": str(obj_id),
        "case_id": case_id,
        # As the JSON it is stored and hashed as (tuples become lists, keys strings): read back, the same.
        "details": json.loads(canonical_json(details)),
    }
    row["content_hash"] = content_hash(row) if hashing else ""
    return row


def record(action: str, obj_type: str, obj_id: object = "", **kwargs) -> AuditEvent:
    """Add an audit event to the current transaction; the caller commits with its own change."""
    event = AuditEvent(**values(action, obj_type, obj_id, **kwargs))
    db.session.add(event)
    return event


def case_history(case_id: int) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.case_id == case_id)
        .options(joinedload(AuditEvent.actor))  # the history names who acted: no query per person, no second
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(query))


def page_of_events(object_type: str = "", before: int | None = None, size: int = 50):
    """The audit log newest first, keyset-paginated by id: (events, the id to continue before, or None)."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(size + 1)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if before:
        query = query.where(AuditEvent.id < before)
    events = list(db.session.scalars(query))
    more = len(events) > size
    events = events[:size]
    return events, events[-1].id if more else None
