"""The append-only audit log: who did what to which object, when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, select
from sqlalchemy.orm import Mapped, joinedload, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Who acted when it was not a person: "system", "worker", "api:<token name>".
    actor_label: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80), default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User")

    @property
    def who(self) -> str:
        return self.actor.name if self.actor else (self.actor_label or "system")


def record(
    action: str,
    obj_type: str,
    obj_id: object = "",
    *,
    actor=None,
    actor_label: str = "",
    case_id: int | None = None,
    **details,
) -> AuditEvent:
    """Add an audit event to the current transaction; the caller commits with its own change."""
    event = AuditEvent(
        action=action,
        object_type=obj_type,
        object_id=str(obj_id),
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label,
        case_id=case_id,
        details=details,
    )
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
