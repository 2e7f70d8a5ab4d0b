"""External reporting: agencies (NCMEC), reporting rules, and the reports filed with them.

The exactly-once guard lives in the schema: a report holds one or more contents (report_contents: a report
about one content is a bundle of one), and a partial UNIQUE index on (agency, content item) over live
contents makes the database — not a Python check — refuse a content in a second live report.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, Index, LargeBinary, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from console.policies.models import Policy

rule_policies = Table(
    "reporting_rule_policies",
    db.metadata,
    Column("rule_id", ForeignKey("reporting_rules.id", ondelete="CASCADE"), primary_key=True),
    Column("policy_id", ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True),
)
# The policies whose cases a rule escalates to high priority (e.g. imminent danger, sextortion).
rule_escalation_policies = Table(
    "reporting_rule_escalation_policies",
    db.metadata,
    Column("rule_id", ForeignKey("reporting_rules.id", ondelete="CASCADE"), primary_key=True),
    Column("policy_id", ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True),
)

# Report states, forward-only; console/reporting/pipeline.py moves a report through them. The one place
# they and their groups are named: the pipeline, the queries and the templates (through ExternalReport's
# properties) all read them from here.
REPORT_STATES = {
    "queued": "Queued",
    "submit_unknown": "Submit outcome unknown",
    "submitted": "Submitted",
    "files_uploaded": "Files uploaded",
    "finished": "Finished",
    "waiting_credentials": "Waiting for credentials",
    "failed": "Failed",
    "retracted": "Retracted",
}
# A worker may still move these: only they are claimed and swept, and the case page polls them.
ACTIVE_STATES = ("queued", "submit_unknown", "submitted", "files_uploaded")
# Stopped until a person acts (Retry, or new credentials).
PARKED_STATES = ("failed", "waiting_credentials")
# Nothing more happens to these: a finished report cannot be withdrawn, a retracted one is gone.
FINAL_STATES = ("finished", "retracted")
# What "Retry" puts back to work: a parked report, or an active one that seems stuck.
RETRYABLE_STATES = (*PARKED_STATES, *ACTIVE_STATES)

# Who can fix a report that stopped, by its error_kind.
FIXED_BY = {
    "retry": "Nobody needs to act: NCMEC or the network failed for a moment; the console retries by itself.",
    "admin": "An admin: the NCMEC credentials or permissions need fixing (Settings → External reporting), "
    "then Retry.",
    "data": "An admin: NCMEC refused the report's data (or would have, so it was not sent); the reason names "
    "the field. Fix the case or rule, then Retry or Retract.",
    "service": "An admin: NCMEC kept answering with a code nobody documented; check the reason and NCMEC's "
    "status, then Retry.",
    "bug": "A developer: the console hit an unexpected error; tell your admin (the reason is in the log).",
}


class Agency(db.Model):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    environment: Mapped[str] = mapped_column(String(20), default="test")  # test | production | custom
    custom_base_url: Mapped[str] = mapped_column(String(500), default="")
    username: Mapped[str] = mapped_column(String(200), default="")
    # MultiFernet token; never rendered, logged or exported.
    password_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    last_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_check_status: Mapped[str] = mapped_column(String(30), default="")
    last_check_message: Mapped[str] = mapped_column(String(500), default="")
    # The company's legal details and law-enforcement contact, sent in every report's ``reporter``.
    company_template: Mapped[str] = mapped_column(Text, default="", server_default="")
    terms_of_service: Mapped[str] = mapped_column(Text, default="", server_default="")
    legal_url: Mapped[str] = mapped_column(String(2083), default="", server_default="")
    le_contact_first_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    le_contact_last_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    le_contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    le_contact_phone: Mapped[str] = mapped_column(String(50), default="", server_default="")


class ReportingRule(db.Model):
    __tablename__ = "reporting_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    review_queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    contact_first_name: Mapped[str] = mapped_column(String(100))
    contact_last_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(254))
    contact_phone: Mapped[str] = mapped_column(String(50), default="", server_default="")
    # Escalation to high priority asked for automatically: AI cases at or above this confidence (0–1), and
    # cases under the escalation policies (or below them); the reason sent is the rule's.
    escalate_min_confidence: Mapped[float | None]
    escalation_reason: Mapped[str] = mapped_column(String(3000), default="", server_default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    # Off (None) by default. When set, the AI-confirmed contents of one user confirmed within this many
    # minutes of the first are filed as one report (one incident): filing.gather_or_create.
    bundle_window_minutes: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The platform (console/webhooks): asked what it knows before the document is frozen (enrichment), and
    # asked to preserve the account's data once the report is finished. None: not asked.
    enrichment_endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="SET NULL")
    )
    preservation_endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="SET NULL")
    )

    agency: Mapped[Agency] = relationship()
    review_queue = relationship("Queue")
    policies: Mapped[list[Policy]] = relationship("Policy", secondary=rule_policies, order_by="Policy.name")
    escalation_policies: Mapped[list[Policy]] = relationship(
        "Policy", secondary=rule_escalation_policies, order_by="Policy.name"
    )


class ExternalReport(db.Model):
    """One report to an agency about one incident — one content, or several of one user (its ``contents``) —
    with its persisted step state."""

    __tablename__ = "external_reports"
    __table_args__ = (
        Index("ix_external_reports_state_lease", "state", "lease_expires_at"),
        Index("uq_external_reports_gathering_key", "gathering_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    # The first content's case (a report about one content: its case).
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_rules.id"), index=True)
    # The first content's item and URL key (filing.content_item, filing.url_key), for the record; the guard is
    # report_contents' partial unique index, which holds every content of the report.
    fingerprint: Mapped[str] = mapped_column(String(128))
    url_key: Mapped[str | None] = mapped_column(String(80), index=True)
    # False only once retracted (its contents' too, in the same transaction): a retracted report no longer
    # blocks a new one for its contents.
    live: Mapped[bool] = mapped_column(default=True)
    # A report the rule's window still gathers contents into (AI-confirmed contents of one user): later
    # confirmations join it until ``gathering_until``; ``next_attempt_at`` keeps every worker off it until
    # then, and the claim that takes it clears both (from then on it is frozen). ``gathering_key`` (rule and
    # user) is unique: two confirmations at once cannot open two gathering reports for one user.
    gathering_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gathering_key: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(30), default="queued")
    triggered_by: Mapped[str] = mapped_column(String(10), default="human")  # human | ai
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Frozen at creation: later edits to the case or the rule do not change what is sent.
    incident_type: Mapped[str] = mapped_column(String(120))
    escalate: Mapped[bool] = mapped_column(default=False)
    contact_first_name: Mapped[str] = mapped_column(String(100))
    contact_last_name: Mapped[str] = mapped_column(String(100))
    contact_email: Mapped[str] = mapped_column(String(254))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    ncmec_report_id: Mapped[str | None] = mapped_column(String(100))
    report_xml: Mapped[str | None] = mapped_column(Text)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    # Who can fix a failure (FIXED_BY): "retry" (transient), "admin" (credentials), "data" (bad data),
    # "service" (codes nobody documented), "bug" (ours).
    error_kind: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship()
    case = relationship("Case")
    rule = relationship("ReportingRule")
    created_by = relationship("User")
    files: Mapped[list[ReportFile]] = relationship(back_populates="report", order_by="ReportFile.position")
    contents: Mapped[list[ReportContent]] = relationship(
        back_populates="report", order_by="ReportContent.position"
    )

    @property
    def case_ids(self) -> list[int]:
        return [c.case_id for c in self.contents] or [self.case_id]

    @property
    def state_label(self) -> str:
        return REPORT_STATES.get(self.state, self.state)

    @property
    def is_active(self) -> bool:
        """A worker may still move it (the case page keeps polling)."""
        return self.state in ACTIVE_STATES

    @property
    def is_parked(self) -> bool:
        """Stopped until a person acts."""
        return self.state in PARKED_STATES

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def can_retry(self) -> bool:
        return self.state in RETRYABLE_STATES

    @property
    def fixed_by(self) -> str:
        """Who can fix the last error, in words ("" when nobody needs to)."""
        return FIXED_BY.get(self.error_kind, "")


class ReportContent(db.Model):
    """One content (one item on the platform) of a report: what "each content is in exactly one finished
    report" counts. A partial UNIQUE index on (agency, item) over live rows refuses a content in a second
    live report, whatever races, retries or bundles happen in front of it."""

    __tablename__ = "report_contents"
    __table_args__ = (
        Index(
            "uq_report_contents_live_item",
            "agency_id",
            "item",
            unique=True,
            sqlite_where=text("live"),
            postgresql_where=text("live"),
        ),
        Index("ix_report_contents_report_case", "report_id", "case_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("external_reports.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The content item (filing.content_item): the platform's content id, else the normalised content URL,
    # else the case — never the bytes.
    item: Mapped[str] = mapped_column(String(128))
    # The content URL's key when the case had one (filing.url_key): an item known by its content id in one
    # case and only by its URL in another is still one item.
    url_key: Mapped[str | None] = mapped_column(String(80), index=True)
    # As the report's: false once the report is retracted.
    live: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    report: Mapped[ExternalReport] = relationship(back_populates="contents")
    case = relationship("Case")


class ReportFile(db.Model):
    """One file of a report, with NCMEC's fileId and MD5 committed as soon as they are known.

    A file of the case (``media_id``), or a file the console wrote when the report was created (a chat
    thread's transcript, ``storage_key``), sent as Supplemental Reported.
    """

    __tablename__ = "external_report_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("external_reports.id"), index=True)
    # The content (its case) the file belongs to, in a report about several; None in reports from before.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"))
    # A generated file's key in the media store (console/media/storage.py); None for a case's own file.
    storage_key: Mapped[str | None] = mapped_column(String(80))
    relevance: Mapped[str] = mapped_column(String(30), default="Reported", server_default="Reported")
    position: Mapped[int] = mapped_column(default=0)
    original_name: Mapped[str] = mapped_column(String(255))
    # Indexed: the evidence store and the hash bank find a file's reports by its bytes.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    md5: Mapped[str] = mapped_column(String(32))
    # From the media-view records at the time the report was created, never a checkbox default.
    viewed_by_esp: Mapped[bool] = mapped_column(default=False)
    exif_viewed_by_esp: Mapped[bool] = mapped_column(default=False)
    industry_classification: Mapped[str | None] = mapped_column(String(4))
    annotations: Mapped[list] = mapped_column(JSON, default=list)
    # Hashes beyond SHA-256 and MD5 (a detector's PDQ, PhotoDNA-style ids): [{"type", "value"}], frozen.
    hashes: Mapped[list | None] = mapped_column(JSON)
    # The platform's details of the file (media_files.details, with the content's URL as its location when
    # the platform gave none), frozen at creation: the fileDetails document is built from them.
    details: Mapped[dict | None] = mapped_column(JSON)
    ncmec_file_id: Mapped[str | None] = mapped_column(String(100))
    ncmec_md5: Mapped[str | None] = mapped_column(String(32))
    # Set (and committed) just before /upload is sent, cleared when its answer is recorded: still set with no
    # fileId means the upload's outcome is unknown, and the open report may hold a copy we cannot describe.
    upload_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fileinfo_sent: Mapped[bool] = mapped_column(default=False)
    fileinfo_xml: Mapped[str | None] = mapped_column(Text)

    report: Mapped[ExternalReport] = relationship(back_populates="files")
    media = relationship("MediaFile")


class ReportFollowUp(db.Model):
    """One thing to do because a report was finished (preserve its evidence, bank its hashes, ask the platform
    to preserve the account): a job of its own, promised in the finish's transaction (console/reporting/
    follow_ups.py). The row is the truth: "pending" until the job has done it, enqueued again by the sweep
    while nobody has; "done" once, by a compare-and-set."""

    __tablename__ = "report_follow_ups"
    __table_args__ = (
        Index(
            "ix_report_follow_ups_pending",
            "updated_at",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    report_id: Mapped[int] = mapped_column(ForeignKey("external_reports.id"), primary_key=True)
    # The job's dotted name (console/tasks.Job.func), called with the report's id.
    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
