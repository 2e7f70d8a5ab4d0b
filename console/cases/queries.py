"""Reading cases for the reviewer's pages: a reported user's cases, and who a case can be escalated to.

Read-only; keyset pages (never OFFSET) on indexes made for them (migration 0006_reviewer).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from console.accounts.models import User
from console.cases.models import Case, Decision, ReportedUser
from console.childsafety import access
from console.extensions import db
from console.queues.models import Queue


@dataclass
class UserCases:
    user: ReportedUser
    cases: list[Case]
    older: int | None  # the `before` of the next (older) page, or None on the last page


def reported_user_cases(
    user_id: int, before: int | None = None, size: int = 20, *, visible=None
) -> UserCases:
    """All of a reported user's cases, across queues, newest first; with their media and decisions.
    `visible`: the clause of the cases the viewer may see (console/childsafety/access.visible_to)."""
    user = db.session.get(ReportedUser, user_id)
    if user is None:
        raise LookupError(f"no reported user {user_id}")
    query = (
        select(Case)
        .where(Case.reported_user_id == user_id)
        .options(
            joinedload(Case.queue),
            joinedload(Case.policy),
            joinedload(Case.claimed_by),
            selectinload(Case.media),
            selectinload(Case.decisions).options(joinedload(Decision.policy), joinedload(Decision.moderator)),
        )
        .order_by(Case.id.desc())
        .limit(size + 1)
    )
    if before is not None:
        query = query.where(Case.id < before)
    if visible is not None:
        query = query.where(visible)
    cases = list(db.session.scalars(query).unique())
    older = cases[size - 1].id if len(cases) > size else None
    return UserCases(user, cases[:size], older)


@dataclass
class EscalationTargets:
    queues: list[Queue]
    colleagues: list[User]


def escalation_targets(case: Case, actor_id: int) -> EscalationTargets:
    """Where a case can go: every other queue; every other active person — only holders of the child-safety
    permission for child-safety material (the service refuses anyone else, wherever the case goes)."""
    queues = db.session.scalars(select(Queue).where(Queue.id != case.queue_id).order_by(Queue.name))
    people = select(User).where(User.active.is_(True), User.id != actor_id).order_by(User.name, User.id)
    if access.is_child_safety(case):
        people = people.where(User.child_safety_access.is_(True))
    return EscalationTargets(list(queues), list(db.session.scalars(people)))


def has_visible_case(user_id: int, visible) -> bool:
    """Whether a reported user has any case the viewer may see (the clause of access.visible_to)."""
    query = select(Case.id).where(Case.reported_user_id == user_id)
    if visible is not None:
        query = query.where(visible)
    return db.session.scalar(query.limit(1)) is not None
