from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from console.media.models import MediaFile

CASE_STATUSES = {"open": "Open", "violation": "Violation confirmed", "no_violation": "No violation"}


class ReportedUser(db.Model):
    """The account on the platform whose content is under review."""

    __tablename__ = "reported_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    screen_name: Mapped[str] = mapped_column(String(200), default="")
    profile_url: Mapped[str] = mapped_column(String(2000), default="")
    # [{"ip": "...", "at": iso8601, "event": "Login"}] — NCMEC's ipCaptureEvent.
    ip_events: Mapped[list] = mapped_column(JSON, default=list)
    # What the platform acknowledged doing to the account (a delivered account action, console/webhooks):
    # "temporary" or "permanent" and when; a CyberTip filed after it says so (accountPermanentlyDisabled).
    account_status: Mapped[str] = mapped_column(String(20), default="", server_default="")
    account_status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Everything else the platform told about the user, as console/api/platform_details.parse_user_details
    # checked it: the person (names, phones, emails, addresses, age, date of birth), device ids, estimated
    # location, associated accounts, group, third-party user, all emails reported. Merged by
    # cases.service.record_user_details; frozen into a report's payload when the report is created.
    details: Mapped[dict | None] = mapped_column(JSON)


class Case(db.Model):
    """One piece of content under review."""

    __tablename__ = "cases"
    __table_args__ = (
        # Keyset pagination per queue and status, oldest first; the second one serves the policy filter.
        Index("ix_cases_queue_status_reported", "queue_id", "status", "reported_at", "id"),
        Index(
            "ix_cases_queue_status_policy_reported", "queue_id", "status", "policy_id", "reported_at", "id"
        ),
        Index("ix_cases_queue_reported", "queue_id", "reported_at", "id"),
        Index(
            "ix_cases_ncmec_report_required",
            "policy_id",
            sqlite_where=text("ncmec_report_required"),
            postgresql_where=text("ncmec_report_required"),
        ),
        # The same per queue and status, most urgent first (queues ordered by priority: cases/priority.py).
        Index("ix_cases_queue_status_priority", "queue_id", "status", "priority_rank", "reported_at", "id"),
        # Live claims are few (one per moderator at most): the queues page counts them through this index.
        Index(
            "ix_cases_claimed_by",
            "claimed_by_id",
            sqlite_where=text("claimed_by_id IS NOT NULL"),
            postgresql_where=text("claimed_by_id IS NOT NULL"),
        ),
        Index(
            "ix_cases_assigned_to",
            "assigned_to_id",
            "reported_at",
            "id",
            sqlite_where=text("assigned_to_id IS NOT NULL"),
            postgresql_where=text("assigned_to_id IS NOT NULL"),
        ),
        # The reported user's page: their cases newest first, a page at a time.
        Index("ix_cases_reported_user", "reported_user_id", "id"),
        # With ix_cases_queue_status_policy_reported: the open child-safety cases of a queue, by any of the
        # three policy columns, counted for people without the permission (queues/queries.py).
        Index(
            "ix_cases_queue_status_reported_policy",
            "queue_id",
            "status",
            "reported_policy_id",
            sqlite_where=text("reported_policy_id IS NOT NULL"),
            postgresql_where=text("reported_policy_id IS NOT NULL"),
        ),
        Index(
            "ix_cases_queue_status_ai_policy",
            "queue_id",
            "status",
            "ai_policy_id",
            sqlite_where=text("ai_policy_id IS NOT NULL"),
            postgresql_where=text("ai_policy_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The platform's own id for the content: the ingestion API is idempotent on it.
    content_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    status: Mapped[str] = mapped_column(String(20), default="open")
    source_kind: Mapped[str] = mapped_column(String(30))
    source_detail: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    content_url: Mapped[str] = mapped_column(String(2000), default="")
    reported_user_id: Mapped[int | None] = mapped_column(ForeignKey("reported_users.id"))
    # The time of the original report (NCMEC's incidentDateTime), not the time it reached the console.
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The policy the report alleges, then the one a moderator confirmed: what the queue filter uses.
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    reported_policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    # AI signal, when an upstream model or rule flagged the content.
    ai_detected: Mapped[bool] = mapped_column(default=False)
    ai_policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    ai_confidence: Mapped[float | None]
    ai_model: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Review: who holds the case now (a lease, console/cases/claims.py), who it was escalated to, how urgent.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which page holds the claim: a page that is left releases only its own claim, not one taken since.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report_count: Mapped[int] = mapped_column(default=1, server_default="1")
    priority_rank: Mapped[int] = mapped_column(default=100, server_default="100")
    # Set when a moderator was asked to file an NCMEC report for this case, cleared when one is filed: the
    # queues page counts these through a partial index instead of scanning every decided case.
    ncmec_report_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where the content lives, for NCMEC's internetDetails (console/cases/kinds.py): the kind the sender
    # named, else the one an admin mapped the platform's content type to, else read from the content.
    content_kind: Mapped[str | None] = mapped_column(String(20))
    platform_content_type: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The kind's own fields (chat service and room, email addresses, game name …), as the sender gave them.
    incident_details: Mapped[dict | None] = mapped_column(JSON)
    # A chat or direct-message thread: [{sender, recipient, sent_at, text, attachments: [media id]}].
    thread: Mapped[list | None] = mapped_column(JSON)
    # Who the content was sent to, and a known minor: {"platform_id", "name", …, "age", "date_of_birth"}.
    intended_recipient: Mapped[dict | None] = mapped_column(JSON)
    victim: Mapped[dict | None] = mapped_column(JSON)
    # A law-enforcement request's agency, case number and officer ({"agency_name", "case_number",
    # "officer": {first_name, last_name, email, phone}, "reported_to_le", "served_legal_process"}): NCMEC's
    # lawEnforcement element.
    law_enforcement: Mapped[dict | None] = mapped_column(JSON)
    # How the incident time was established (NCMEC's incidentDateTimeDescription), when the platform says.
    incident_time_description: Mapped[str] = mapped_column(Text, default="", server_default="")

    queue = relationship("Queue")
    reported_user: Mapped[ReportedUser | None] = relationship()
    policy = relationship("Policy", foreign_keys=[policy_id])
    reported_policy = relationship("Policy", foreign_keys=[reported_policy_id])
    ai_policy = relationship("Policy", foreign_keys=[ai_policy_id])
    media: Mapped[list[MediaFile]] = relationship("MediaFile", back_populates="case", order_by="MediaFile.id")
    decisions: Mapped[list[Decision]] = relationship(back_populates="case", order_by="Decision.id")
    claimed_by = relationship("User", foreign_keys=[claimed_by_id])
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])

    @property
    def status_label(self) -> str:
        return CASE_STATUSES.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        """The queue's source when the case came in the queue's usual way, else the case's own source kind."""
        return self.queue.source_label if self.source_kind == self.queue.source_kind else self.source_kind

    @property
    def ai_confidence_label(self) -> str:
        return f"{self.ai_confidence * 100:.0f}%" if self.ai_confidence is not None else "—"

    @property
    def thread_messages(self) -> list[ThreadMessage]:
        """The thread as the page shows it, each attachment resolved to the case's own file."""
        media = {m.id: m for m in self.media}
        return [
            ThreadMessage(
                sender=msg.get("sender", ""),
                recipient=msg.get("recipient", ""),
                sent_at=datetime.fromisoformat(msg["sent_at"]),
                text=msg.get("text", ""),
                media=[media[i] for i in msg.get("attachments", []) if i in media],
            )
            for msg in self.thread or []
        ]

    @property
    def is_law_enforcement_request(self) -> bool:
        """The case came from law enforcement: its agency, case number and officer belong in the report."""
        return self.source_kind == "lea_request" or self.queue.source_kind == "lea_request"

    @property
    def thread_media_ids(self) -> set[int]:
        return {i for msg in self.thread or [] for i in msg.get("attachments", [])}

    @property
    def excerpt(self) -> str:
        return excerpt_of(self.text, self.thread, self.content_url)


def excerpt_of(text: str | None, thread: list | None, content_url: str | None) -> str:
    """A case in one line of at most 90 characters: its text, else its thread's first message, or its URL."""
    first = (thread or [{}])[0].get("text", "")
    line = " ".join((text or first or content_url or "").split())
    return line if len(line) <= 90 else line[:89] + "…"


@dataclass(frozen=True)
class ThreadMessage:
    sender: str
    recipient: str
    sent_at: datetime
    text: str
    media: list[MediaFile]


class ContentTypeKind(db.Model):
    """An admin's mapping of one of the platform's content types ("dm", "forum_post") to a content kind."""

    __tablename__ = "content_type_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_type: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))


class Decision(db.Model):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))  # "violation" | "no_violation"
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"))
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # "human" or "ai": an AI decision alone never files an NCMEC report (a person confirms first).
    made_by: Mapped[str] = mapped_column(String(10), default="human")
    note: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="decisions")
    policy = relationship("Policy")
    moderator = relationship("User")


class CaseDraft(db.Model):
    """A moderator's unfinished note on a case, saved while its page is open: it outlives an expired claim."""

    __tablename__ = "case_drafts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    note: Mapped[str] = mapped_column(String(2000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def review_order_columns(order: str) -> tuple:
    """The columns a queue hands out its open cases by (Queue.review_order), each with a matching index."""
    if order == "priority":
        return (Case.priority_rank, Case.reported_at, Case.id)
    return (Case.reported_at, Case.id)
