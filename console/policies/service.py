from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from console.database import memo
from console.extensions import db
from console.policies.models import Policy


@dataclass(frozen=True)
class PolicyNode:
    policy: Policy  # or a queries.PolicyRow
    depth: int

    @property
    def label(self) -> str:
        return ("\u2003" * self.depth) + self.policy.name


def all_policies() -> list[Policy]:
    """Every policy by name, read once per transaction (console/database.memo): the tree, its marks, rules'
    lineages and filters' subtrees all come from this one read."""

    def read() -> list[Policy]:
        return list(db.session.scalars(select(Policy).order_by(Policy.name)))

    return memo("policies", read, tables=("policies",))


def policy_tree() -> list[PolicyNode]:
    """All policies depth-first, parents before their sub-policies, for pickers and filters."""
    return tree_of(all_policies())


def tree_of(policies) -> list[PolicyNode]:
    """These policies (ORM rows or `queries.PolicyRow`s, by name) depth-first, parents before children."""
    children: dict[int | None, list[Policy]] = {}
    for p in policies:
        children.setdefault(p.parent_id, []).append(p)
    out: list[PolicyNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for p in children.get(parent_id, []):
            out.append(PolicyNode(p, depth))
            walk(p.id, depth + 1)

    walk(None, 0)
    return out


def lineage_ids(policy_id: int) -> list[int]:
    """The policy and all its ancestors: a rule naming any of them covers this policy."""
    parents = {p.id: p.parent_id for p in all_policies()}
    out, current, seen = [], policy_id, set()
    while current is not None and current not in seen:
        seen.add(current)
        out.append(current)
        current = parents.get(current)
    return out


def subtree_ids(policy_id: int, policies=None) -> list[int]:
    """The policy and every sub-policy below it, now and as the tree is at query time (`policies`: the tree
    as the caller read it already)."""
    children: dict[int | None, list[int]] = {}
    for p in all_policies() if policies is None else policies:
        children.setdefault(p.parent_id, []).append(p.id)
    out, stack = [], [policy_id]
    while stack:
        pid = stack.pop()
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def incident_type_for(policy_id: int | None) -> str | None:
    """The nearest default NCMEC incident type up the tree (a sub-policy inherits its parent's)."""
    if policy_id is None:
        return None
    for pid in lineage_ids(policy_id):
        policy = db.session.get(Policy, pid)
        if policy and policy.ncmec_incident_type:
            return policy.ncmec_incident_type
    return None


def report_annotations_for(policy_id: int | None) -> list[str]:
    """The nearest NCMEC report annotations up the tree (a sub-policy inherits its parent's)."""
    if policy_id is None:
        return []
    for pid in lineage_ids(policy_id):
        policy = db.session.get(Policy, pid)
        if policy and policy.ncmec_report_annotations:
            return list(policy.ncmec_report_annotations)
    return []
