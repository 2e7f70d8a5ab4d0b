"""A case's row as it is opened, and opening one with Core statements (the ingestion API's hot path).

`case_values` is the one place a new case's columns are worked out (the alleged and AI policies, the review
priority), for `service.open_case` (an ORM object, for callers that go on with it) and for `insert_case`
(one INSERT … RETURNING id, no object: what an upstream system's post needs). The caller's transaction holds
both; the queue's counters are the caller's to change (`counters.opened`), as late as it can: the UPDATE of
the queue's row holds that row's lock until the commit, and every case opened in the queue waits for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert

from console.cases import priority
from console.cases.models import Case
from console.extensions import db
from console.timeutil import utcnow

CASES = Case.__table__
INSERT_CASE = insert(CASES).returning(CASES.c.id)


def case_values(
    queue_id: int,
    *,
    source_kind: str,
    reported_at: datetime,
    text: str = "",
    content_url: str = "",
    content_id: str | None = None,
    reported_user_id: int | None = None,
    policy_id: int | None = None,
    source_detail: str = "",
    ai_policy_id: int | None = None,
    ai_confidence: float | None = None,
    ai_model: str = "",
    report_count: int = 1,
) -> dict[str, Any]:
    """The columns of a new open case: the alleged policy is the one reported, else the AI's."""
    return {
        "queue_id": queue_id,
        "status": "open",
        "source_kind": source_kind,
        "source_detail": source_detail,
        "text": text,
        "content_url": content_url,
        "content_id": content_id,
        "reported_user_id": reported_user_id,
        "reported_at": reported_at,
        "received_at": utcnow(),
        "policy_id": policy_id if policy_id is not None else ai_policy_id,
        "reported_policy_id": policy_id,
        "ai_detected": ai_policy_id is not None,
        "ai_policy_id": ai_policy_id,
        "ai_confidence": ai_confidence,
        "ai_model": ai_model,
        "report_count": report_count,
        "priority_rank": priority.rank(source_kind, report_count, ai_confidence),
    }


def insert_case(values: dict[str, Any]) -> int:
    """INSERT the case (`case_values`, plus any detail columns) in the caller's transaction; its id.

    The unique index on content_id refuses a content id seen before (IntegrityError, the caller's to handle).
    """
    return db.session.connection().execute(INSERT_CASE, values).scalar_one()
