"""Claims: which moderator is reviewing a case right now, so that two people never work one case.

A claim is a lease on the case row (who, since when, until when, and which page holds it), taken and given
back by compare-and-set UPDATEs checked by rowcount — the pattern of decisions (`status = 'open'`) and of
report leases (console/reporting/lease.py). It works the same on SQLite and PostgreSQL: of two moderators
claiming at once, the second one's UPDATE matches no row. Nothing here holds a transaction across a wait.

- "Next case" picks the first claimable case in the queue's order and claims it in the same transaction; a
  lost race (PostgreSQL: another moderator's UPDATE committed between our SELECT and our UPDATE) retries with
  the next one. On SQLite writers are serialized (BEGIN IMMEDIATE), so the race cannot happen there.
- The lease lasts CLAIM_SECONDS; the open page renews it (and saves the draft note) every fifth of that, and
  gives it back when it is left. Deciding or escalating the case gives it back in the same UPDATE.
- A claim whose lease ran out is free for anyone; until someone takes it, the page that held it renews it
  seamlessly (the row still names it), and the moderator's draft note survives either way (cases/drafts.py).
- One claim per moderator: taking one releases their others, in a second short transaction. (Doing both in
  one could deadlock on PostgreSQL: two moderators each taking the other's expired claim lock two rows in
  opposite orders.)
- Each page that holds a claim has its own token: a page that is left releases only its own claim, never the
  one a reload of the same case has just taken.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, literal, or_, select, tuple_, update

from console import audit, tasks
from console.cases import drafts
from console.cases.models import Case, review_order_columns
from console.childsafety import access, exposure
from console.extensions import db
from console.queues.models import Queue
from console.timeutil import UTCDateTime, utcnow

# What every change that ends a review writes with it (a decision, an escalation, a release).
RELEASED = {"claimed_by_id": None, "claimed_at": None, "claim_expires_at": None, "claim_token": None}
# "Next case" gives up after this many lost races in a row (each one means another moderator got a case).
NEXT_CASE_ATTEMPTS = 20


@dataclass(frozen=True)
class Claim:
    case_id: int
    holder_id: int
    holder_name: str
    since: datetime
    expires_at: datetime
    token: str | None = None

    def held_by(self, user_id: int) -> bool:
        return self.holder_id == user_id


class ClaimedByOther(Exception):
    """Another moderator is reviewing the case: nothing was changed."""

    def __init__(self, claim: Claim | None):
        self.claim = claim
        super().__init__(
            f"Being reviewed by {claim.holder_name} since {claim.since:%H:%M} UTC."
            if claim
            else "Another moderator is reviewing this case."
        )


def lease() -> timedelta:
    return timedelta(seconds=current_app.config["CLAIM_SECONDS"])


def claimable_by(user_id: int, now: datetime):
    """SQL: nobody holds the case, or this moderator does, or the holder's lease ran out."""
    return or_(Case.claimed_by_id.is_(None), Case.claimed_by_id == user_id, Case.claim_expires_at <= now)


def current(case: Case, now: datetime | None = None) -> Claim | None:
    """The live claim on a loaded case (its `claimed_by` loaded too), or None."""
    now = now or utcnow()
    if case.status != "open" or case.claimed_by_id is None or case.claim_expires_at is None:
        return None
    if case.claim_expires_at <= now:
        return None
    return Claim(
        case.id,
        case.claimed_by_id,
        case.claimed_by.name if case.claimed_by else "someone",
        case.claimed_at or now,
        case.claim_expires_at,
        case.claim_token,
    )


def holder(case_id: int) -> Claim | None:
    """The live claim on a case as the database has it now."""
    case = db.session.get(Case, case_id, populate_existing=True)
    return current(case) if case is not None else None


def _take(case_id: int, user_id: int, now: datetime, token: str, *conditions) -> bool:
    """The compare-and-set itself: the case is ours if the row still matched `conditions` when we wrote."""
    until = now + lease()
    still_ours = and_(Case.claimed_by_id == user_id, Case.claim_expires_at > now)
    changed = db.session.execute(
        update(Case)
        .where(Case.id == case_id, Case.status == "open", *conditions)
        .values(
            claimed_by_id=user_id,
            claim_token=token,
            claim_expires_at=until,
            # Re-taken by the same person while it lasts (a reload): the review began when it first began.
            claimed_at=case((still_ours, Case.claimed_at), else_=literal(now, UTCDateTime())),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    return changed == 1


def _was_mine(case_id: int, user_id: int, now: datetime) -> bool:
    row = db.session.execute(
        select(Case.claimed_by_id, Case.claim_expires_at).where(Case.id == case_id)
    ).first()
    return row is not None and row[0] == user_id and row[1] is not None and row[1] > now


def _release_others(user_id: int, keep_case_id: int) -> None:
    db.session.execute(
        update(Case)
        .where(Case.claimed_by_id == user_id, Case.id != keep_case_id)
        .values(**RELEASED)
        .execution_options(synchronize_session=False)
    )
    tasks.commit_then_enqueue()


def _claimed(case_id: int, moderator, now: datetime, token: str, renewed: bool) -> Claim:
    if not renewed:
        audit.record("case_claimed", "case", case_id, actor=moderator, case_id=case_id)
    tasks.commit_then_enqueue()
    _release_others(moderator.id, case_id)
    claim = holder(case_id)
    assert claim is not None
    return Claim(claim.case_id, claim.holder_id, claim.holder_name, claim.since, claim.expires_at, token)


def _refuse_unseen(case_id: int, person) -> None:
    """Child-safety material is claimed, kept and released only by holders of the permission."""
    case = db.session.get(Case, case_id)
    if case is not None and not access.may_see(person, case):
        raise access.Restricted("child-safety material")


def claim(case_id: int, moderator) -> Claim | None:
    """Take the case for this moderator (or keep it, with a new token for the page that asks).

    None: the case is not open (or does not exist). Raises ClaimedByOther while someone else's lease lasts,
    access.Restricted for child-safety material and someone without the permission.
    """
    _refuse_unseen(case_id, moderator)
    now, token = utcnow(), secrets.token_hex(16)
    renewed = _was_mine(case_id, moderator.id, now)
    if _take(case_id, moderator.id, now, token, claimable_by(moderator.id, now)):
        return _claimed(case_id, moderator, now, token, renewed)
    db.session.rollback()
    other = holder(case_id)
    db.session.rollback()
    if other is not None and not other.held_by(moderator.id):
        raise ClaimedByOther(other)
    return None


def renew(case_id: int, moderator, token: str, note: str | None = None) -> Claim | None:
    """Extend this page's claim and save the draft note with it. None: the page no longer holds the case.

    Works on an expired lease too, as long as nobody took the case meanwhile (the row still names the page).
    Refused (access.Restricted) once the case is child-safety material its holder may not see.
    """
    _refuse_unseen(case_id, moderator)
    now = utcnow()
    changed = db.session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            Case.status == "open",
            Case.claimed_by_id == moderator.id,
            Case.claim_token == token,
        )
        .values(claim_expires_at=now + lease())
        .execution_options(synchronize_session=False)
    ).rowcount
    if note is not None:
        drafts.save(case_id, moderator.id, note)
    tasks.commit_then_enqueue()
    if changed != 1:
        return None
    return holder(case_id)


def release(case_id: int, actor, *, token: str | None = None, note: str | None = None) -> bool:
    """Give a claim back: one's own (the page that holds it, with its token), or anyone's for an admin —
    on child-safety material, an admin with the permission (access.Restricted otherwise)."""
    conditions = [Case.id == case_id, Case.claimed_by_id.is_not(None)]
    if token:
        conditions += [Case.claimed_by_id == actor.id, Case.claim_token == token]
    elif not actor.is_admin:
        conditions.append(Case.claimed_by_id == actor.id)
    else:
        _refuse_unseen(case_id, actor)
    was = holder(case_id)
    changed = db.session.execute(
        update(Case).where(*conditions).values(**RELEASED).execution_options(synchronize_session=False)
    ).rowcount
    if note is not None:
        drafts.save(case_id, actor.id, note)
    if changed == 1 and was is not None and not was.held_by(actor.id):
        audit.record("claim_released", "case", case_id, actor=actor, case_id=case_id, holder=was.holder_name)
    tasks.commit_then_enqueue()
    return changed == 1


def next_case(queue_id: int, moderator, after_case_id: int | None = None) -> Claim | None:
    """Claim the next case of the queue for this moderator, in the queue's order; None when none is free.

    "Next" is after `after_case_id` (the case the moderator is leaving) in the queue's order, wrapping round
    to the head of the queue; that case itself is skipped. Cases escalated to a colleague are left to them.
    """
    queue = db.session.get(Queue, queue_id)
    if queue is None:
        return None
    columns = review_order_columns(queue.review_order)
    after_key = None
    if after_case_id is not None:
        row = db.session.execute(select(*columns).where(Case.id == after_case_id)).first()
        after_key = tuple(row) if row else None
    # No child-safety case to someone without the permission, nor to someone over today's exposure limit.
    offer = exposure.offer_clause(moderator)
    for _attempt in range(NEXT_CASE_ATTEMPTS):
        now, token = utcnow(), secrets.token_hex(16)
        free = [
            Case.queue_id == queue_id,
            Case.status == "open",
            or_(Case.claimed_by_id.is_(None), Case.claim_expires_at <= now),
            or_(Case.assigned_to_id.is_(None), Case.assigned_to_id == moderator.id),
        ]
        if offer is not None:
            free.append(offer)
        if after_case_id is not None:
            free.append(Case.id != after_case_id)
        candidate = None
        if after_key is not None:
            candidate = db.session.scalar(
                select(Case.id)
                .where(*free, tuple_(*columns) > tuple_(*after_key))
                .order_by(*columns)
                .limit(1)
            )
        if candidate is None:
            candidate = db.session.scalar(select(Case.id).where(*free).order_by(*columns).limit(1))
        if candidate is None:
            db.session.rollback()
            return None
        if _take(
            candidate,
            moderator.id,
            now,
            token,
            or_(Case.claimed_by_id.is_(None), Case.claim_expires_at <= now),
        ):
            return _claimed(candidate, moderator, now, token, renewed=False)
        # Lost the race for this one: another moderator's claim committed first. The next SELECT sees it.
    db.session.rollback()
    return None
