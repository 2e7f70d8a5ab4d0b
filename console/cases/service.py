"""What moderators do to cases: open them, decide them, reveal their media.

Plain arguments in, data out: nothing here knows about HTTP. A missing case or file raises NotFound (a
LookupError), which the views turn into a 404. A function that changes rows owns its transaction and ends it
with `tasks.commit_then_enqueue` (console/tasks.py); `open_case` is the exception, a building block that adds
to its caller's transaction. A decision announces itself (console/cases/signals.py) and whoever listens adds
to the same transaction: cases imports nothing from them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from console import audit, tasks
from console.accounts.models import User
from console.cases import claims, counters, drafts, opening, showings
from console.cases.models import Case, Decision, ReportedUser
from console.cases.signals import FollowUp, case_decided, violation_confirmed
from console.childsafety import access, exposure
from console.childsafety.models import ExposureBreak
from console.database import json_list, json_rows
from console.extensions import db
from console.media.models import MediaFile, MediaView
from console.policies.models import Policy
from console.policies.service import all_policies
from console.queues.models import Queue
from console.timeutil import utcnow


class NotFound(LookupError):
    """No such case, or no such file in that case."""


class OnBreak(Exception):
    """The moderator's child-safety reveals today reached the soft limit: a break first (nothing revealed)."""

    def __init__(self, pause: ExposureBreak):
        self.pause = pause
        super().__init__(f"a break until {pause.ends_at:%H:%M} UTC")


class AlreadyDecided(Exception):
    """Someone else decided the case first; nothing was overwritten. `case` is the case as they left it."""

    def __init__(self, case: Case):
        self.case = case
        last = case.decisions[-1] if case.decisions else None
        who = last.moderator.name if last and last.moderator else "someone"
        super().__init__(f"This case was already decided by {who}: {case.status_label}.")


@dataclass
class DecisionOutcome:
    case: Case  # as decided, loaded with everything its page shows
    decision: Decision
    # What the receivers of the decision's signal asked for (their jobs are enqueued already).
    follow_ups: list[FollowUp] = field(default_factory=list)

    @property
    def asks(self) -> list[str]:
        """What the moderator is now asked to do, by name (e.g. file a report): the web layer shows it."""
        return [f.ask for f in self.follow_ups if f.ask]


def load_case(case_id: int) -> Case:
    """A case with everything its page shows, in a fixed number of queries (no lazy load per row)."""
    # The policies come from the transaction's one read of the tree (the page needs it anyway, for the
    # decision form and the child-safety marks): a case's three policies and its decisions' are then found in
    # the session by primary key, without joining the policies table four times.
    policies = all_policies()
    # The queues marked child-safety come with the case (one JSON column): with the tree, the marks every
    # check of the page asks (access.marks), without a statement of their own.
    marked = aliased(Queue)
    row = db.session.execute(
        select(Case, json_rows(marked.id, where=marked.child_safety.is_(True)).label("marked"))
        .where(Case.id == case_id)
        .options(
            joinedload(Case.queue),
            joinedload(Case.reported_user),
            joinedload(Case.claimed_by),
            joinedload(Case.assigned_to),
            selectinload(Case.media),
            selectinload(Case.decisions).options(joinedload(Decision.moderator)),
        )
    ).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    case, marked_ids = row
    access.remember_marks(policies, [ids[0] for ids in json_list(marked_ids)])
    return case


def find_or_create_reported_user(platform_id: str, **fields) -> ReportedUser:
    user = db.session.scalar(select(ReportedUser).where(ReportedUser.platform_id == platform_id))
    if user is None:
        user = ReportedUser(platform_id=platform_id, ip_events=[])
        db.session.add(user)
    for key, value in fields.items():
        if value not in (None, ""):
            setattr(user, key, value)
    return user


def open_case(
    queue: Queue,
    *,
    source_kind: str | None = None,
    reported_at: datetime,
    text: str = "",
    content_url: str = "",
    content_id: str | None = None,
    reported_user: ReportedUser | None = None,
    policy: Policy | None = None,
    source_detail: str = "",
    ai_policy: Policy | None = None,
    ai_confidence: float | None = None,
    ai_model: str = "",
    actor_label: str = "system",
    report_count: int = 1,
) -> Case:
    """Add a case to a queue in the caller's transaction, keeping the queue's open counter exact."""
    values = opening.case_values(
        queue.id,
        source_kind=source_kind or queue.source_kind,
        reported_at=reported_at,
        text=text,
        content_url=content_url,
        content_id=content_id,
        # A user added in this transaction has no id yet: the relationship sets it at the flush.
        reported_user_id=reported_user.id if reported_user else None,
        policy_id=policy.id if policy else None,
        source_detail=source_detail,
        ai_policy_id=ai_policy.id if ai_policy else None,
        ai_confidence=ai_confidence,
        ai_model=ai_model,
        report_count=report_count,
    )
    case = Case(**values, reported_user=reported_user)
    db.session.add(case)
    counters.opened(queue.id, reported_at)
    db.session.flush()
    audit.record("case_opened", "case", case.id, actor_label=actor_label, case_id=case.id, queue=queue.name)
    return case


def decide(
    case_id: int,
    verdict: str,
    policy_id: int | None,
    moderator,
    note: str = "",
    unticked: Collection[int] = (),
) -> DecisionOutcome:
    """Record a moderator's decision, exactly once per case.

    ``unticked``: follow-up actions offered on the decision form that the moderator chose not to run
    (passed to the receivers of `case_decided`, who offered them).

    The status change is a compare-and-set on `status = 'open'` and on the claim (nobody else reviewing):
    of two moderators deciding at once, the second one's UPDATE matches no row and is told who decided
    first; a moderator deciding a case another one has claimed is told who is reviewing it
    (claims.ClaimedByOther). The same UPDATE gives the claim back.
    """
    if verdict not in ("violation", "no_violation"):
        raise ValueError("verdict must be 'violation' or 'no_violation'")
    if verdict == "violation" and (policy_id is None or db.session.get(Policy, policy_id) is None):
        raise ValueError("choose the policy that was violated")
    if (
        verdict == "violation"
        and not access.has_access(moderator)
        and access.is_child_safety_policy(policy_id)
    ):
        # Only the child-safety team confirms (and so reports) child-safety violations: escalate instead.
        raise access.Restricted("a child-safety violation: escalate the case to the child-safety team")
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if not access.may_see(moderator, case):
        raise access.Restricted("child-safety material")
    now = utcnow()
    values = {"status": verdict, "decided_at": now, **claims.RELEASED}
    if verdict == "violation":
        values["policy_id"] = policy_id
    _compare_and_set(case_id, moderator.id, values)
    drafts.discard(case_id)
    counters.closed(case.queue_id, case.reported_at)
    decision = Decision(
        case_id=case_id,
        verdict=verdict,
        policy_id=policy_id if verdict == "violation" else None,
        moderator_id=moderator.id,
        made_by="human",
        note=note,
        created_at=now,
    )
    db.session.add(decision)
    db.session.flush()
    db.session.refresh(case)
    audit.record(
        "case_decided",
        "case",
        case_id,
        actor=moderator,
        case_id=case_id,
        verdict=verdict,
        policy=decision.policy.name if decision.policy else None,
    )
    follow_ups: list[FollowUp] = []
    sent = (
        violation_confirmed.send(case, decision=decision, actor=moderator) if verdict == "violation" else []
    )
    sent += case_decided.send(case, decision=decision, actor=moderator, unticked=frozenset(unticked))
    follow_ups += [follow_up for _receiver, follow_up in sent if follow_up is not None]
    tasks.commit_then_enqueue(job for f in follow_ups for job in f.jobs)
    return DecisionOutcome(load_case(case_id), decision, follow_ups)


def _compare_and_set(case_id: int, actor_id: int, values: dict) -> None:
    """Write `values` to the case only while it is open and nobody else is reviewing it; else say why.

    Raises AlreadyDecided (someone decided first) or claims.ClaimedByOther (someone else holds the case). A
    claim that ran out between the UPDATE and the look at why it failed is tried once more.
    """
    for _attempt in range(2):
        changed = db.session.execute(
            update(Case)
            .where(Case.id == case_id, Case.status == "open", claims.claimable_by(actor_id, utcnow()))
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed == 1:
            return
        db.session.rollback()
        case = load_case(case_id)
        if case.status != "open":
            raise AlreadyDecided(case)
        claim = claims.current(case)
        if claim is not None:
            raise claims.ClaimedByOther(claim)
    raise claims.ClaimedByOther(None)


def escalate(
    case_id: int,
    *,
    actor,
    note: str,
    to_queue_id: int | None = None,
    to_user_id: int | None = None,
    policy_id: int | None = None,
) -> Case:
    """Hand an open case on with a note: to another queue (child safety, senior review), a colleague, or both;
    `policy_id`: the policy the person handing it on found (it becomes the case's alleged one).

    Moving to a queue without naming anyone clears an earlier assignment; naming a colleague without a queue
    keeps the case where it is and puts it on their "Assigned to me" list. Like a decision, a compare-and-set
    on the open status and the claim; it gives the claim back. Raises ValueError for a missing note or target
    or a colleague who may not see the case where it goes (child-safety material needs the permission),
    NotFound, AlreadyDecided, claims.ClaimedByOther, access.Restricted (an actor who may not see it).
    """
    note = (note or "").strip()
    if not note:
        raise ValueError("say why the case is escalated")
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    if not access.may_see(actor, case):
        raise access.Restricted("child-safety material")
    to_queue = db.session.get(Queue, to_queue_id) if to_queue_id else None
    if to_queue_id and to_queue is None:
        raise ValueError("no such queue")
    to_user = db.session.get(User, to_user_id) if to_user_id else None
    if to_user_id and (to_user is None or not to_user.active):
        raise ValueError("no such colleague")
    if to_queue is not None and to_queue.id == case.queue_id:
        to_queue = None
    if to_queue is None and to_user is None:
        raise ValueError("choose another queue or a colleague")
    where = to_queue.id if to_queue is not None else case.queue_id
    if (
        to_user is not None
        and not access.has_access(to_user)
        and (access.is_child_safety(case, queue_id=where) or access.is_child_safety_policy(policy_id))
    ):
        # Assigned, it would sit on their list with its text and be refused when they open it (the sweep).
        raise ValueError(
            f"{to_user.name} does not hold the child-safety permission: choose someone who does "
            "(an admin grants it under Settings → Child safety)"
        )
    from_queue_id = case.queue_id
    values = {**claims.RELEASED, "assigned_to_id": to_user.id if to_user else None}
    if to_queue is not None:
        values["queue_id"] = to_queue.id
    if policy_id is not None:
        values["policy_id"] = policy_id
    _compare_and_set(case_id, actor.id, values)
    if to_queue is not None:
        counters.moved(from_queue_id, to_queue.id, case.reported_at)
    from_queue = db.session.get(Queue, from_queue_id)
    audit.record(
        "case_escalated",
        "case",
        case_id,
        actor=actor,
        case_id=case_id,
        from_queue=from_queue.name if from_queue else None,
        to_queue=to_queue.name if to_queue else None,
        to_user=to_user.name if to_user else None,
        note=note,
    )
    tasks.commit_then_enqueue()
    db.session.expire_all()
    return load_case(case_id)


def escalate_to_child_safety(case_id: int, *, actor, note: str, policy_id: int | None = None) -> Case:
    """Someone without the child-safety permission found child-safety material: the case goes to the team's
    queue (console/childsafety/access.escalation_queue) with their note, and the policy they chose becomes
    the case's alleged one. Nothing is decided or filed by them, and the case is out of their sight.
    Raises what `escalate` raises, and ValueError when no queue is marked child-safety."""
    queue = access.escalation_queue()
    if queue is None:
        raise ValueError("no queue is marked child-safety yet: ask an admin (Settings → Child safety)")
    policy = db.session.get(Policy, policy_id) if policy_id else None
    chosen = policy.name if policy else "no policy chosen"
    note = (note or "").strip() or f"Child-safety material found ({chosen})."
    try:
        return escalate(
            case_id, actor=actor, note=note, to_queue_id=queue.id, policy_id=policy.id if policy else None
        )
    except Exception:
        db.session.rollback()
        raise


def media_of(case_id: int, media_id: int) -> MediaFile:
    """A file of the case (a file of another case is not found here, whatever its id)."""
    media = db.session.scalar(select(MediaFile).where(MediaFile.id == media_id, MediaFile.case_id == case_id))
    if media is None:
        raise NotFound(f"no file {media_id} in case {case_id}")
    return media


@dataclass(frozen=True)
class Revealed:
    media: MediaFile
    token: str  # what the page that asked may fetch the bytes with (console/cases/showings.py)


def reveal(media_id: int, case_id: int, moderator, page: str = "") -> Revealed:
    """A person chose to see a file: record who and when; this alone later makes fileViewedByEsp true, and
    only this lets a page fetch its bytes (the returned token, for this page view).

    Child-safety material: refused without the permission (Restricted), and held while the moderator's
    exposure budget asks for a break (OnBreak); the reveal counts towards today's budget.
    """
    media = media_of(case_id, media_id)
    child_safety = access.is_child_safety(media.case)
    if child_safety:
        if not access.has_access(moderator):
            raise access.Restricted("child-safety material")
        pause = exposure.break_before_reveal(moderator.id)
        if pause is not None:
            raise OnBreak(pause)
    view = MediaView(media_id=media.id, user_id=moderator.id, viewed_at=utcnow(), child_safety=child_safety)
    db.session.add(view)
    # The page it was revealed on: the chain of custody in a law-enforcement package names it.
    audit.record(
        "media_revealed",
        "media",
        media.id,
        actor=moderator,
        case_id=case_id,
        file=media.original_name,
        **({"page": page} if page else {}),
    )
    db.session.flush()
    token = showings.token_for(view)
    tasks.commit_then_enqueue()
    return Revealed(media, token)


def record_download(media: MediaFile, reveal_id: int, moderator, page: str = "") -> None:
    """The bytes of a revealed file left the console for a person's browser: on record (chain of custody)."""
    audit.record(
        "media_downloaded",
        "media",
        media.id,
        actor=moderator,
        case_id=media.case_id,
        file=media.original_name,
        reveal_id=reveal_id,
        **({"page": page} if page else {}),
    )
    db.session.commit()
