from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db
from console.timeutil import UTCDateTime

# The kinds of source a queue is fed by; also recorded on each case.
SOURCE_KINDS = {
    "user_report": "User reports",
    "trusted_flagger": "Trusted flagger",
    "lea_request": "Law-enforcement request",
    "proactive": "Proactive detection",
    "ai_review": "AI review",
}
# How a queue hands out its open cases ("Next case", and the order of its list of open cases).
REVIEW_ORDERS = {
    "oldest": "Oldest report first",
    "priority": "Priority (reports, source, AI confidence)",
}
DEFAULT_SLA_MINUTES = 24 * 60


def duration_label(minutes: float) -> str:
    """'90 min', '24 h', '3 d': an SLA target or how far a case is from it."""
    minutes = int(minutes)
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 72 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


@dataclass(frozen=True)
class SlaStatus:
    """A case's age against its queue's target: the case page and the queue's rows show it."""

    target: str  # "24 h"
    past: bool
    distance: str  # how long past the target, or how long until it


class Queue(db.Model):
    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    source_kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(500), default="")
    # A counter kept in the same transaction as every case that enters or leaves the queue: an exact
    # count(*) over a large queue is far too slow for a page render.
    open_cases: Mapped[int] = mapped_column(default=0)
    # Set by admins: every case in this queue is child-safety material (console/childsafety/access.py).
    child_safety: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The target time from a report to its decision; the clock runs from the report itself (Case.reported_at),
    # as a legal deadline does, so a case moved to another queue keeps its age.
    sla_minutes: Mapped[int] = mapped_column(
        default=DEFAULT_SLA_MINUTES, server_default=str(DEFAULT_SLA_MINUTES)
    )
    review_order: Mapped[str] = mapped_column(String(20), default="oldest", server_default="oldest")

    @property
    def source_label(self) -> str:
        return SOURCE_KINDS.get(self.source_kind, self.source_kind)

    @property
    def sla_label(self) -> str:
        return duration_label(self.sla_minutes)

    @property
    def review_order_label(self) -> str:
        return REVIEW_ORDERS.get(self.review_order, self.review_order)

    def sla_since(self, now: datetime) -> datetime:
        """Open cases reported before this moment are past the queue's SLA."""
        return now - timedelta(minutes=self.sla_minutes)

    def sla_status(self, reported_at: datetime, now: datetime) -> SlaStatus:
        due = reported_at + timedelta(minutes=self.sla_minutes)
        minutes = abs((now - due).total_seconds()) / 60
        return SlaStatus(self.sla_label, now >= due, duration_label(minutes))


class QueueOpenHour(db.Model):
    """Open cases of a queue by the hour they were reported in (UTC), kept in the same transaction as
    Queue.open_cases (console/queues/counters.py). The queues page counts the cases within an SLA window from
    these rows plus one partial hour of the index, so its work does not grow with the cases per window (at
    10M cases a 24-hour window held ~9,400 cases of one queue, each visited by the count)."""

    __tablename__ = "queue_open_hours"

    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    open: Mapped[int] = mapped_column(default=0)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour a moment falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
