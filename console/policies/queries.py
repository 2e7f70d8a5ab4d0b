"""Reading the policy tree as rows: for pages that fold it into a statement of their own
(console/database.json_rows) instead of loading every policy as an ORM object."""

from __future__ import annotations

from dataclasses import dataclass

from console.database import json_list, json_rows
from console.policies.models import Policy


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """What the tree, its filters and the child-safety marks read of a policy."""

    id: int
    name: str
    parent_id: int | None
    child_safety: bool


def policy_rows_column():
    """Every policy as one JSON column of another statement (read back with `policy_rows`)."""
    return json_rows(Policy.id, Policy.name, Policy.parent_id, Policy.child_safety)


def policy_rows(value) -> list[PolicyRow]:
    """The policies of a `policy_rows_column`, by name (the order of `service.all_policies`)."""
    rows = [PolicyRow(int(i), name, parent, bool(cs)) for i, name, parent, cs in json_list(value)]
    rows.sort(key=lambda p: (p.name, p.id))
    return rows
