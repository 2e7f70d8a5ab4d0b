"""What is child-safety material, and who may see it: the one definition every page and list uses.

A case is child-safety material when
- its queue is marked child-safety by an admin (Settings → Child safety), or
- a policy it stands under — the one it is alleged or confirmed under, the original report's, the AI's — is
  marked child-safety, or sits anywhere below a marked policy in the tree (as the tree is now).
Reports to NCMEC and their evidence are child-safety material whatever their case says (they exist for
nothing else): those pages ask for the permission alone (console/security.py, `child_safety_required`).

Only a person holding the permission (`User.child_safety_access`) sees such a case, its media, its NCMEC
dialog and its reports: the law asks a provider to keep the people who see reported material as few as
possible (18 U.S.C. §2258B(c)). `is_child_safety(case)` answers for one case; `child_safety_clause()` is the
same definition in SQL, for lists (tests hold the two to agreeing).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, func, not_, or_, select

from console.cases.models import Case
from console.childsafety.models import CareSettings
from console.database import has_memo, json_list, json_rows, memo, remember
from console.extensions import db
from console.policies.queries import policy_rows, policy_rows_column
from console.policies.service import all_policies
from console.queues.models import Queue


class Restricted(PermissionError):
    """Child-safety material, asked for by someone without the permission: nothing was shown or changed."""


@dataclass(frozen=True)
class Marks:
    """The marked queues, and the marked policies with every sub-policy below them."""

    policy_ids: frozenset[int]
    queue_ids: frozenset[int]


_MARKS = "childsafety.marks"
MARKS_TABLES = ("policies", "queues")  # a flush writing to either forgets the marks


def marks() -> Marks:
    """Read once per transaction (console/database.memo): a page asks for them from several places."""
    return memo(_MARKS, _read_marks, tables=MARKS_TABLES)


def remember_marks(policies, queue_ids) -> Marks:
    """The marks from a tree and the marked queues a page read in its own statement: kept for the transaction
    (console/database.memo) as if `marks()` had read them."""
    return remember(_MARKS, marks_of(policies, queue_ids), tables=MARKS_TABLES)


def _read_marks() -> Marks:
    policies = all_policies()
    return marks_of(policies, db.session.scalars(select(Queue.id).where(Queue.child_safety.is_(True))))


def _marks_alone() -> Marks:
    """The marks in one statement (the tree's rows and the marked queues as JSON columns), for a page that
    needs no policy as an ORM row (the queues page, Assigned to me): `marks()` reads the tree as ORM rows,
    shared with the page's other questions about policies, and the marked queues in a second statement."""
    if has_memo(_MARKS):
        return marks()
    policies, queues = db.session.execute(
        select(policy_rows_column(), json_rows(Queue.id, where=Queue.child_safety.is_(True)))
    ).one()
    return remember_marks(policy_rows(policies), [ids[0] for ids in json_list(queues)])


def marks_of(policies, queue_ids) -> Marks:
    """The marked queues, and the marked policies with every one below them (ORM rows or PolicyRows)."""
    children: dict[int | None, list[int]] = {}
    for p in policies:
        children.setdefault(p.parent_id, []).append(p.id)
    found: set[int] = set()
    stack = [p.id for p in policies if p.child_safety]
    while stack:
        pid = stack.pop()
        if pid not in found:
            found.add(pid)
            stack.extend(children.get(pid, []))
    return Marks(frozenset(found), frozenset(queue_ids))


def is_child_safety(case: Case, known: Marks | None = None, *, queue_id: int | None = None) -> bool:
    """`queue_id`: as the case would be in that queue (where an escalation is about to move it)."""
    m = known or marks()
    policies = (case.policy_id, case.reported_policy_id, case.ai_policy_id)
    in_queue = queue_id if queue_id is not None else case.queue_id
    return in_queue in m.queue_ids or any(p in m.policy_ids for p in policies if p is not None)


def child_safety_clause(known: Marks | None = None):
    """`is_child_safety` as a WHERE clause on cases (never NULL, so that its negation is exact)."""
    m = known or marks()
    parts = []
    if m.queue_ids:
        parts.append(Case.queue_id.in_(m.queue_ids))
    if m.policy_ids:
        for column in (Case.policy_id, Case.reported_policy_id, Case.ai_policy_id):
            parts.append(func.coalesce(column, 0).in_(m.policy_ids))
    return or_(*parts) if parts else false()


def child_safety_policy_terms(known: Marks | None = None) -> list:
    """The cases that are child-safety material by a policy, one term per policy column, each answered by its
    own index (for counting them: queues/queries.py); NULL is no. Empty when no policy is marked."""
    m = known or marks()
    if not m.policy_ids:
        return []
    ids = sorted(m.policy_ids)
    return [column.in_(ids) for column in (Case.policy_id, Case.reported_policy_id, Case.ai_policy_id)]


def is_child_safety_policy(policy_id: int | None) -> bool:
    return policy_id is not None and policy_id in marks().policy_ids


def has_access(user) -> bool:
    return bool(getattr(user, "child_safety_access", False))


def may_see(user, case: Case) -> bool:
    return has_access(user) or not is_child_safety(case)


def visible_to(user, *, without_tree: bool = False):
    """The WHERE clause a list of cases adds for this person: None when they may see every case.
    `without_tree`: the page needs no policy as an ORM row (the marks are read in one statement)."""
    if has_access(user):
        return None
    return not_(child_safety_clause(_marks_alone() if without_tree else None))


def may_open_queue(user, queue: Queue) -> bool:
    """A queue marked child-safety is listed and opened only with the permission."""
    return has_access(user) or not queue.child_safety


def child_safety_case_ids(case_ids) -> set[int]:
    """Which of these cases are child-safety material (for lists that mention cases: the audit log)."""
    ids = {i for i in case_ids if i is not None}
    if not ids:
        return set()
    return set(db.session.scalars(select(Case.id).where(Case.id.in_(ids), child_safety_clause())))


def escalation_queue() -> Queue | None:
    """Where a case goes when someone without the permission finds child-safety material in it."""
    chosen = db.session.scalar(select(CareSettings.escalation_queue_id).order_by(CareSettings.id).limit(1))
    if chosen is not None:
        queue = db.session.get(Queue, chosen)
        if queue is not None and queue.child_safety:
            return queue
    return db.session.scalar(select(Queue).where(Queue.child_safety.is_(True)).order_by(Queue.id).limit(1))
