"""What is preserved for a finished report, until when, and what holds it longer.

An EvidenceRecord per finished report (one year from the finish at least, 18 U.S.C. §2258A(h) as amended
by the REPORT Act); its EvidenceItems, each a content-addressed file in the evidence store (store.py) named
by its SHA-256; LegalHolds on a report or on everything of a reported user, which keep evidence past its date.

Items are never changed: no code path updates them, and the database refuses it (a trigger from migration
0006_evidence). A purge removes the items' bytes and keeps their rows: what was kept, its hashes, and when it
was purged stay on record.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

RECORD_STATES = {
    "pending": "Being preserved",
    "preserved": "Preserved",
    "incomplete": "Preserved, incomplete",
    "purged": "Purged",
}
KEPT_STATES = ("preserved", "incomplete")  # what a purge may remove (and a package may export)

ITEM_KINDS = {
    "report_xml": "Report XML as sent",
    "file_details_xml": "fileDetails XML as sent",
    "file": "File as sent",
    "ncmec_reply": "NCMEC's reply",
    "ncmec_replies": "NCMEC's replies (values)",
    "case_snapshot": "Case snapshot",
    "reported_user_snapshot": "Reported user snapshot",
}


class EvidenceRecord(db.Model):
    """The evidence of one finished report. Created in the transaction that records the finish."""

    __tablename__ = "evidence_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("external_reports.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The reported user at the finish: a hold on "everything of this user" covers the record through it.
    reported_user_id: Mapped[int | None] = mapped_column(ForeignKey("reported_users.id"), index=True)
    ncmec_report_id: Mapped[str] = mapped_column(String(100), default="")
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    preserve_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # /finish's reply as the pipeline received it: {"response_code", "report_id", "file_ids", "raw"}.
    finish_reply: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    preserved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the canonical list of items (kind, name, size, SHA-256): the record's items as a whole.
    seal: Mapped[str] = mapped_column(String(64), default="")
    # What could not be preserved (a file deleted or changed before it was copied), in words.
    problems: Mapped[list] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The platform's acknowledgement of the preservation request sent after the finish (console/webhooks):
    # {"message_id", "status", "response"} and when it came.
    platform_preservation: Mapped[dict] = mapped_column(JSON, default=dict)
    platform_preservation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    report = relationship("ExternalReport")
    case = relationship("Case")
    reported_user = relationship("ReportedUser")
    items: Mapped[list[EvidenceItem]] = relationship(
        back_populates="record", order_by="EvidenceItem.position"
    )

    @property
    def state_label(self) -> str:
        return RECORD_STATES.get(self.state, self.state)

    @property
    def is_kept(self) -> bool:
        return self.state in KEPT_STATES


class EvidenceItem(db.Model):
    """One preserved thing (a file sent, an XML document, a reply, a snapshot). Immutable."""

    __tablename__ = "evidence_items"
    __table_args__ = (UniqueConstraint("record_id", "name", name="uq_evidence_items_record_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("evidence_records.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(30))
    # The path inside a law-enforcement package, e.g. "files/1-photo.jpg" (ASCII, safe in any zip tool).
    name: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Files only: the MD5 NCMEC computed on upload (what it received), and the name the file had.
    md5: Mapped[str] = mapped_column(String(32), default="")
    original_name: Mapped[str] = mapped_column(String(2056), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    record: Mapped[EvidenceRecord] = relationship(back_populates="items")

    @property
    def kind_label(self) -> str:
        return ITEM_KINDS.get(self.kind, self.kind)


class LegalHold(db.Model):
    """Keeps evidence past its date: of one report, or of every report about one reported user."""

    __tablename__ = "legal_holds"
    __table_args__ = (CheckConstraint("(report_id IS NULL) <> (reported_user_id IS NULL)", name="one_scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("external_reports.id"), index=True)
    reported_user_id: Mapped[int | None] = mapped_column(ForeignKey("reported_users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(2000))
    # E.g. the preservation request's number (18 U.S.C. §2703(f)), a subpoena or a case number.
    reference: Mapped[str] = mapped_column(String(200), default="")
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    placed_by_label: Mapped[str] = mapped_column(String(120), default="")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_by_label: Mapped[str] = mapped_column(String(120), default="")
    release_reason: Mapped[str] = mapped_column(String(2000), default="")

    report = relationship("ExternalReport")
    reported_user = relationship("ReportedUser")
    placed_by = relationship("User", foreign_keys=[placed_by_id])
    released_by = relationship("User", foreign_keys=[released_by_id])

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.released_at is None and (self.ends_at is None or self.ends_at > now)

    @property
    def scope_label(self) -> str:
        if self.report_id is not None:
            return f"report #{self.report_id}"
        return f"everything of reported user #{self.reported_user_id}"

    @property
    def placed_by_name(self) -> str:
        return self.placed_by.name if self.placed_by else (self.placed_by_label or "system")

    @property
    def released_by_name(self) -> str:
        return self.released_by.name if self.released_by else (self.released_by_label or "system")


class NcmecReply(db.Model):
    """One reply of NCMEC's API, its body exactly as received: kept as evidence (console/evidence/replies.py).

    Written by the client's reply hook the moment a body is read, in a transaction of its own, whatever the
    reply says (an error code too): what NCMEC answered is on record even when the pipeline then rolls back.
    Matched to a report by NCMEC's report id, which an abandoned report keeps too.
    """

    __tablename__ = "ncmec_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    ncmec_report_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    endpoint: Mapped[str] = mapped_column(String(20))  # submit | upload | fileinfo | finish | retract
    http_status: Mapped[int] = mapped_column(default=0)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- the audit log's Merkle tree and signed checkpoints (sealer.py writes them, logcheck.py verifies) -------


class AuditLogNode(db.Model):
    """A perfect subtree of the audit log's Merkle tree, written once when it fills; never updated.

    Level 0 holds the leaves (the events' content hashes as sealed, by log index); level L the 2**L leaves
    from position * 2**L. Any root or proof reads O(log n) of them (console/tlog/merkle.py).
    """

    __tablename__ = "audit_log_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditCheckpoint(db.Model):
    """A signed tree head: the tree's size and root, signed by the console's key, chained to the one before.

    `id` is the previous checkpoint's + 1, written by the sealer that read it: two sealers that raced collide
    on it (and on `tree_size`), so the log cannot fork. `note` is the signed note exactly as signed (C2SP
    checkpoint with `prev` and `time` lines, console/tlog/checkpoint.py); the other columns repeat what it
    says for queries, and verify checks that they agree.
    """

    __tablename__ = "audit_log_checkpoints"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_hash: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)


class LogVerification(db.Model):
    """One run of `flask audit verify`: how far the log was found intact, or where it broke."""

    __tablename__ = "audit_log_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    actor_label: Mapped[str] = mapped_column(String(120), default="")
    ok: Mapped[bool] = mapped_column(default=False)
    events_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    checkpoints_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    # The tree size (events from log index 0) found intact, and the signed root there (hex; "" for none).
    through_size: Mapped[int] = mapped_column(BigInteger, default=0)
    through_root: Mapped[str] = mapped_column(String(64), default="")
    broken_index: Mapped[int | None] = mapped_column(BigInteger)
    broken_event_id: Mapped[int | None]
    problem: Mapped[str] = mapped_column(String(2000), default="")
