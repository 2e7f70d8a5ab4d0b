"""What the webhooks pages, the case page, /metrics and the admins' banner read (nothing here writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from console.extensions import db
from console.timeutil import utcnow
from console.webhooks import service
from console.webhooks.models import (
    EVENT_STATES,
    WebhookAction,
    WebhookAllowedHost,
    WebhookEndpoint,
    WebhookEvent,
)

PAGE = 100


@dataclass
class EndpointRow:
    endpoint: WebhookEndpoint
    by_state: dict[str, int] = field(default_factory=dict)


def overview() -> dict:
    counts: dict[int, dict[str, int]] = {}
    for endpoint_id, state, n in db.session.execute(
        select(WebhookEvent.endpoint_id, WebhookEvent.state, func.count()).group_by(
            WebhookEvent.endpoint_id, WebhookEvent.state
        )
    ):
        counts.setdefault(endpoint_id, {})[state] = n
    endpoints = db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)).all()
    return {
        "endpoints": [EndpointRow(e, counts.get(e.id, {})) for e in endpoints],
        "actions": db.session.scalars(
            select(WebhookAction)
            .options(selectinload(WebhookAction.policies), selectinload(WebhookAction.endpoint))
            .order_by(WebhookAction.verdict.desc(), WebhookAction.name)
        ).all(),
        "hosts": db.session.scalars(select(WebhookAllowedHost).order_by(WebhookAllowedHost.host)).all(),
        "states": EVENT_STATES,
    }


def deliveries(*, endpoint_id: int | None = None, case_id: int | None = None, limit: int = PAGE) -> list:
    """Events newest first, each with its attempts (time, status, latency, response excerpt)."""
    query = select(WebhookEvent).options(
        selectinload(WebhookEvent.attempt_rows), selectinload(WebhookEvent.endpoint)
    )
    if endpoint_id is not None:
        query = query.where(WebhookEvent.endpoint_id == endpoint_id)
    if case_id is not None:
        query = query.where(WebhookEvent.case_id == case_id)
    return db.session.scalars(query.order_by(WebhookEvent.id.desc()).limit(limit)).all()


def case_events(case_id: int) -> list[WebhookEvent]:
    return db.session.scalars(
        select(WebhookEvent).where(WebhookEvent.case_id == case_id).order_by(WebhookEvent.id)
    ).all()


@dataclass(frozen=True)
class DecisionActions:
    """What the decision form offers: the actions each verdict would run for the case's policy now."""

    violation: list[WebhookAction]
    no_violation: list[WebhookAction]
    policy_id: int | None


def decision_actions(policy_id: int | None) -> DecisionActions:
    return DecisionActions(
        service.actions_for("violation", policy_id) if policy_id else [],
        service.actions_for("no_violation", None),
        policy_id,
    )


@dataclass(frozen=True)
class Health:
    by_state: dict[str, int]
    oldest_undelivered: datetime | None
    disabled: list[WebhookEndpoint]

    def oldest_age_seconds(self, now: datetime | None = None) -> float:
        if self.oldest_undelivered is None:
            return 0.0
        return max(0.0, ((now or utcnow()) - self.oldest_undelivered).total_seconds())


def health() -> Health:
    by_state = dict(
        db.session.execute(select(WebhookEvent.state, func.count()).group_by(WebhookEvent.state)).all()
    )
    oldest = db.session.scalar(
        select(func.min(WebhookEvent.created_at)).where(WebhookEvent.state == "pending")
    )
    disabled = db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.enabled.is_(False))).all()
    if oldest is not None and oldest.tzinfo is None:  # SQLite's aggregate comes back naive (it is UTC)
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    return Health({s: by_state.get(s, 0) for s in EVENT_STATES}, oldest, list(disabled))
