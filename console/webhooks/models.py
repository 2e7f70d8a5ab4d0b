"""Webhooks to the platform: endpoints, the actions a decision runs, the events sent and every attempt.

- WebhookEndpoint: a URL on the platform and its signing secret (encrypted, write-only; during a rotation the
  previous one signs too, until `previous_secret_until`).
- WebhookAction: what an admin lets a decision do on the platform ("Remove content", "Disable account
  permanently", "Restore"), the event type it sends, where, and whether a moderator may untick it. A policy's
  default actions (`policy_actions`) run when a violation of it is confirmed (a sub-policy without its own
  runs its parent's); actions "on no violation" are offered with that verdict.
- WebhookEvent: one message to one endpoint, written in the transaction of what caused it (a decision, a
  finished report). Its `message_id` is the `webhook-id` header on every attempt: receivers de-duplicate
  by it.
  The row is the truth; a worker delivers it under its lease (console/webhooks/delivery.py).
- WebhookAttempt: each try, with its time, status, latency and the response's first 2 KiB.
- WebhookAllowedHost: hosts an admin allows over plain http and at non-public addresses (the demo platform
  on this machine); everything else must be https to a public address.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, LargeBinary, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

# Event types an action may send, with what they ask of the platform and what they act on.
ACTION_TYPES = {
    "content.remove": ("Remove the content", "content"),
    "content.restore": ("Restore the content", "content"),
    "account.disable": ("Disable the account permanently", "account"),
    "account.suspend": ("Disable the account temporarily", "account"),
    "account.restore": ("Re-enable the account", "account"),
}
# Sent by the console itself, not by an action.
PRESERVATION_REQUEST = "preservation.request"
ENRICHMENT_REQUEST = "enrichment.request"
EVENT_TYPES = {
    **{k: v[0] for k, v in ACTION_TYPES.items()},
    PRESERVATION_REQUEST: "Preserve the account's data",
}
VERDICTS = {"violation": "Confirm violation", "no_violation": "No violation"}

EVENT_STATES = {
    "pending": "Pending",  # not delivered yet: due now or at next_attempt_at
    "awaiting": "Waiting for an answer",  # an enrichment request, asked by the filing worker (not swept)
    "delivered": "Delivered",  # a 2xx answer
    "failed": "Failed",  # retried for WEBHOOK_RETRY_HOURS without a 2xx; Resend puts it back
    "stopped": "Stopped",  # the receiver answered 410 Gone: its endpoint is disabled
}
UNDELIVERED_STATES = ("pending",)
RESPONSE_EXCERPT_MAX = 2048

policy_actions = Table(
    "webhook_policy_actions",
    db.metadata,
    Column("policy_id", ForeignKey("policies.id", ondelete="CASCADE"), primary_key=True),
    Column("action_id", ForeignKey("webhook_actions.id", ondelete="CASCADE"), primary_key=True),
)


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    # While a secret rotates, the previous one signs too (two signatures) until this time.
    previous_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str] = mapped_column(String(500), default="")
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first failed attempt since the last delivery: failing longer than WEBHOOK_DISABLE_AFTER_HOURS
    # disables the endpoint (an admin banner says so).
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actions: Mapped[list[WebhookAction]] = relationship(back_populates="endpoint")

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)


class WebhookAction(db.Model):
    __tablename__ = "webhook_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))  # a key of ACTION_TYPES
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20), default="violation")  # a key of VERDICTS
    enabled: Mapped[bool] = mapped_column(default=True)
    # A moderator may untick it on the decision form (else it always runs with its policy).
    skippable: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship(back_populates="actions")
    policies = relationship("Policy", secondary=policy_actions, order_by="Policy.name")

    @property
    def target(self) -> str:
        return ACTION_TYPES.get(self.event_type, ("", "content"))[1]

    @property
    def type_label(self) -> str:
        return ACTION_TYPES.get(self.event_type, (self.event_type, ""))[0]


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"
    __table_args__ = (
        # The sweep and /metrics read undelivered events by due time; the deliveries pages by endpoint.
        Index("ix_webhook_events_state_due", "state", "next_attempt_at"),
        Index("ix_webhook_events_endpoint_created", "endpoint_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The `webhook-id` header, the same on every attempt and every Resend.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_actions.id", ondelete="SET NULL"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("external_reports.id"), index=True)
    reported_user_id: Mapped[int | None] = mapped_column(ForeignKey("reported_users.id"), index=True)
    # The JSON body as sent (its `timestamp` is the event's creation, not the attempt's).
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(String(500), default="")

    endpoint: Mapped[WebhookEndpoint] = relationship()
    action = relationship("WebhookAction")
    attempt_rows: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="event", order_by="WebhookAttempt.id"
    )

    @property
    def state_label(self) -> str:
        return EVENT_STATES.get(self.state, self.state)

    @property
    def type_label(self) -> str:
        return EVENT_TYPES.get(self.type, self.type)


class WebhookAttempt(db.Model):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("webhook_events.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    status_code: Mapped[int | None] = mapped_column()
    error: Mapped[str] = mapped_column(String(500), default="")
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(100), default="")

    event: Mapped[WebhookEvent] = relationship(back_populates="attempt_rows")


class WebhookAllowedHost(db.Model):
    __tablename__ = "webhook_allowed_hosts"

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(253), unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
