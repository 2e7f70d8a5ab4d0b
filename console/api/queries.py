"""What ingestion reads, as rows: every name a request gives resolved in one statement, and a case by its
content id. Nothing here loads an ORM object: a posted case is written with Core statements
(console/cases/opening.py), so nothing it reads needs to be one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, literal, select

from console.cases.models import Case, ReportedUser
from console.extensions import db
from console.policies.models import Policy
from console.queues.models import Queue

POLICIES, QUEUES, USERS = Policy.__table__, Queue.__table__, ReportedUser.__table__
# The reported user's columns ingestion merges into (console/cases/reported_users.py).
USER_COLUMNS = ("id", "name", "email", "screen_name", "profile_url", "ip_events", "details")


@dataclass(frozen=True)
class QueueRef:
    """A queue as ingestion needs it: where the case goes, what the answer and the audit event name."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Names:
    """A request's names resolved: None where nothing has the name (or the request gave none)."""

    policy_id: int | None
    ai_policy_id: int | None
    queue: QueueRef | None  # the queue the request named
    first_of_kind: QueueRef | None  # the first queue its source kind feeds
    user: dict[str, Any] | None  # the reported user's row (USER_COLUMNS), if known already


def _resolve_statement():
    """One SELECT of one row: each name LEFT JOINed to a row that is always there, so a name nothing has
    leaves its columns NULL instead of emptying the result. Each join is on a unique column (or the first
    queue's id), so it adds at most one row."""
    p, ap, q, kind, u = (
        POLICIES.alias("p"),
        POLICIES.alias("ap"),
        QUEUES.alias("q"),
        QUEUES.alias("kind"),
        USERS.alias("u"),
    )
    first_of_kind = (
        select(func.min(QUEUES.c.id))
        .where(QUEUES.c.source_kind == bindparam("source_kind"))
        .scalar_subquery()
    )
    one = select(literal(1).label("one")).subquery("one")
    joined = (
        one.outerjoin(p, p.c.slug == bindparam("policy"))
        .outerjoin(ap, ap.c.slug == bindparam("ai_policy"))
        .outerjoin(q, q.c.slug == bindparam("queue"))
        .outerjoin(kind, kind.c.id == first_of_kind)
        .outerjoin(u, u.c.platform_id == bindparam("platform_id"))
    )
    return select(
        p.c.id.label("policy_id"),
        ap.c.id.label("ai_policy_id"),
        q.c.id.label("q_id"),
        q.c.slug.label("q_slug"),
        q.c.name.label("q_name"),
        kind.c.id.label("kind_id"),
        kind.c.slug.label("kind_slug"),
        kind.c.name.label("kind_name"),
        *(u.c[name].label(f"u_{name}") for name in USER_COLUMNS),
    ).select_from(joined)


RESOLVE = _resolve_statement()


def resolve(
    *, policy: str | None, ai_policy: str | None, queue: str | None, source_kind: str, platform_id: str
) -> Names:
    row = (
        db.session.connection()
        .execute(
            RESOLVE,
            {
                "policy": policy or None,
                "ai_policy": ai_policy or None,
                "queue": queue or None,
                "source_kind": source_kind or None,
                "platform_id": platform_id or None,
            },
        )
        .one()
    )
    return Names(
        policy_id=row.policy_id,
        ai_policy_id=row.ai_policy_id,
        queue=QueueRef(row.q_id, row.q_slug, row.q_name) if row.q_id is not None else None,
        first_of_kind=QueueRef(row.kind_id, row.kind_slug, row.kind_name)
        if row.kind_id is not None
        else None,
        user={name: row._mapping[f"u_{name}"] for name in USER_COLUMNS} if row.u_id is not None else None,
    )


EXISTING = (
    select(Case.__table__.c.id, QUEUES.c.slug)
    .join(QUEUES, QUEUES.c.id == Case.__table__.c.queue_id)
    .where(Case.__table__.c.content_id == bindparam("content_id"))
)


def case_with_content_id(content_id: str):
    """(id, queue slug) of the case of this content id, or None."""
    return db.session.connection().execute(EXISTING, {"content_id": content_id}).first()
