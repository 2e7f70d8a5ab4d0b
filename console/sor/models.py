"""Statements of reasons to the DSA Transparency Database: the agency, the admins' mapping, the statements.

- SorAgency: the one agency row ("EU DSA Transparency Database"), off until an admin enables it; which
  environment new statements go to; which countries count as EU content.
- SorEnvironment: sandbox and production, each its base URL and token (encrypted, write-only, like the NCMEC
  password: console/crypto.py). A 401/403 pauses the environment (``paused_reason``) until an admin acts.
- SorPolicyMapping / SorActionMapping / SorSourceMapping: what a policy, a platform action (console/webhooks)
  and a case's source mean in the service's vocabulary (console/dsa/constants.py).
- StatementOfReasons: one per decision (UNIQUE decision_id), its PUID stored with it before any attempt, its
  body frozen when it is built; a worker sends it under the row's lease (console/sor/sending.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

AGENCY_NAME = "EU DSA Transparency Database"
ENVIRONMENTS = {"sandbox": "Sandbox", "production": "Production"}

SOR_STATES = {
    "waiting": "Waiting",  # not buildable yet: the mapping is incomplete (waiting_reason says what)
    "pending": "Pending",  # built and frozen; a worker sends it (now, or at next_attempt_at)
    "submitted": "Submitted",  # the service has it (a 201, or "already there" confirmed by the lookup)
    "failed": "Failed",  # refused (the service's 422 or the console's own check); Resend after a fix
}
ACTIVE_STATES = ("pending",)


class SorAgency(db.Model):
    __tablename__ = "sor_agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default=AGENCY_NAME)
    enabled: Mapped[bool] = mapped_column(default=False)
    environment: Mapped[str] = mapped_column(String(20), default="sandbox")  # a key of ENVIRONMENTS
    # ISO 3166 alpha-2 codes (the service's territorial_scope codes) whose content gets a statement.
    countries: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SorEnvironment(db.Model):
    __tablename__ = "sor_environments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20), unique=True)  # a key of ENVIRONMENTS
    base_url: Mapped[str] = mapped_column(String(500), default="")
    # MultiFernet token; never rendered, logged or exported.
    token_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Set by a 401/403 (or a wrong base URL): nothing is sent to this environment until an admin saves it.
    paused_reason: Mapped[str] = mapped_column(String(500), default="")
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_check_status: Mapped[str] = mapped_column(String(30), default="")
    last_check_message: Mapped[str] = mapped_column(String(500), default="")

    @property
    def label(self) -> str:
        return ENVIRONMENTS.get(self.name, self.name)

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.token_encrypted)


class SorPolicyMapping(db.Model):
    """A policy's statement: category, ground and content types (a sub-policy without one: its parent's)."""

    __tablename__ = "sor_policy_mappings"

    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(80), default="")
    specifications: Mapped[list] = mapped_column(JSON, default=list)
    specification_other: Mapped[str] = mapped_column(String(500), default="")
    ground: Mapped[str] = mapped_column(String(20), default="")  # "illegal" | "incompatible"
    legal_ground: Mapped[str] = mapped_column(String(500), default="")  # illegal: the law relied on
    clause: Mapped[str] = mapped_column(String(500), default="")  # incompatible: the terms' clause
    explanation: Mapped[str] = mapped_column(String(2000), default="")
    content_types: Mapped[list] = mapped_column(JSON, default=list)
    content_type_other: Mapped[str] = mapped_column(String(500), default="")
    # decision_facts: what the public database shows about the decision; never the moderator's own note,
    # which may name people (the database is public).
    facts: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policy = relationship("Policy")


class SorActionMapping(db.Model):
    """What a platform action restricts. All four empty: the action restricts nothing (no statement)."""

    __tablename__ = "sor_action_mappings"

    action_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_actions.id", ondelete="CASCADE"), primary_key=True
    )
    visibility: Mapped[list] = mapped_column(JSON, default=list)
    visibility_other: Mapped[str] = mapped_column(String(500), default="")
    account: Mapped[str] = mapped_column(String(60), default="")
    provision: Mapped[str] = mapped_column(String(60), default="")
    monetary: Mapped[str] = mapped_column(String(60), default="")
    monetary_other: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    action = relationship("WebhookAction")


class SorSourceMapping(db.Model):
    """A case's source kind (console/queues/models.py SOURCE_KINDS) → source_type."""

    __tablename__ = "sor_source_mappings"

    source_kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    source_type: Mapped[str] = mapped_column(String(60), default="")


class StatementOfReasons(db.Model):
    __tablename__ = "statements_of_reasons"
    __table_args__ = (
        # The worker claims pending statements of one environment by due time; the sweep reads the same.
        Index("ix_sor_state_env_due", "state", "environment", "next_attempt_at"),
        Index("ix_sor_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One statement per decision: the database refuses a second one, whatever retries or re-deliveries.
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # From the decision's id (console/dsa puid_for), written with the row, before any attempt; never changes.
    puid: Mapped[str] = mapped_column(String(500), unique=True)
    environment: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    waiting_reason: Mapped[str] = mapped_column(String(500), default="")
    # The body as sent (console/dsa Statement.to_json), frozen when built; null while waiting.
    body: Mapped[dict | None] = mapped_column(JSON)
    # The platform actions the decision ran (console/webhooks; what the moderator unticked left out): what
    # it restricted, read again if the statement waits for its mapping.
    action_ids: Mapped[list] = mapped_column(JSON, default=list)
    # The figures the transparency page counts, copied from the body when it is built.
    category: Mapped[str] = mapped_column(String(80), default="")
    decision_type: Mapped[str] = mapped_column(
        String(20), default=""
    )  # visibility|account|provision|monetary
    ground: Mapped[str] = mapped_column(String(60), default="")
    automated_decision: Mapped[str] = mapped_column(String(60), default="")
    uuid: Mapped[str | None] = mapped_column(String(64))
    # The service already had the PUID (confirmed by its lookup); `unexpected`: before we ever sent it.
    already_there: Mapped[bool] = mapped_column(default=False)
    unexpected_duplicate: Mapped[bool] = mapped_column(default=False)
    errors: Mapped[dict | None] = mapped_column(JSON)  # {field: [messages]}: the service's or our check's
    refused_by: Mapped[str] = mapped_column(String(20), default="")  # "service" | "console"
    last_error: Mapped[str] = mapped_column(String(500), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    # Written in the claim's transaction, before the request: from then on the service may have it.
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The decision was reversed later (recorded on our side only: the API has no withdrawal).
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    decision = relationship("Decision")
    case = relationship("Case")

    @property
    def state_label(self) -> str:
        return SOR_STATES.get(self.state, self.state)
