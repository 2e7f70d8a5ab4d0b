"""What the statements-of-reasons pages read: the list, a case's statement, the figures per month."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from console.dsa.constants import LABELS
from console.extensions import db
from console.sor import agency as agencies
from console.sor.mapping import overview
from console.sor.models import SOR_STATES, StatementOfReasons

PAGE_SIZE = 50


def page(state: str = "", before: int | None = None, size: int = PAGE_SIZE):
    """Statements newest first, keyset-paginated by id: (rows, the id to continue before, or None)."""
    query = (
        select(StatementOfReasons)
        .options(joinedload(StatementOfReasons.decision))
        .order_by(StatementOfReasons.id.desc())
        .limit(size + 1)
    )
    if state in SOR_STATES:
        query = query.where(StatementOfReasons.state == state)
    if before:
        query = query.where(StatementOfReasons.id < before)
    rows = list(db.session.scalars(query))
    more = len(rows) > size
    rows = rows[:size]
    return rows, (rows[-1].id if more and rows else None)


def state_counts() -> dict[str, int]:
    counts = dict(
        db.session.execute(
            select(StatementOfReasons.state, func.count()).group_by(StatementOfReasons.state)
        ).all()
    )
    return {state: counts.get(state, 0) for state in SOR_STATES}


def for_case(case_id: int) -> StatementOfReasons | None:
    return db.session.scalar(
        select(StatementOfReasons)
        .where(StatementOfReasons.case_id == case_id)
        .order_by(StatementOfReasons.id)
    )


def settings_context() -> dict:
    """The agency's card on Settings → External reporting."""
    return {
        "sor_agency": agencies.agency(),
        "sor_environments": agencies.environments(),
        "sor_incomplete": overview()["incomplete"],
    }


def label(value: str) -> str:
    return LABELS.get(value, value or "—")


def _month(column):
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


@dataclass
class Figures:
    months: list[str]
    # (dimension, value) → month → count; dimension: category, decision type, ground, automation
    table: dict[str, dict[str, Counter]]
    total: int


DIMENSIONS = {
    "category": ("By category", StatementOfReasons.category),
    "decision_type": ("By decision type", StatementOfReasons.decision_type),
    "ground": ("By ground", StatementOfReasons.ground),
    "automated_decision": ("By automation", StatementOfReasons.automated_decision),
}


def figures(start_at, end_at) -> Figures:
    """Submitted statements per month (of the decision's statement), by each dimension the EU's
    transparency reports ask for."""
    month = _month(StatementOfReasons.created_at)
    window = (
        StatementOfReasons.state == "submitted",
        StatementOfReasons.created_at >= start_at,
        StatementOfReasons.created_at < end_at,
    )
    table: dict[str, dict[str, Counter]] = {}
    months: set[str] = set()
    total = 0
    for name, (_title, column) in DIMENSIONS.items():
        by_value: dict[str, Counter] = {}
        for m, value, n in db.session.execute(
            select(month, column, func.count()).where(*window).group_by(month, column)
        ).all():
            by_value.setdefault(value or "", Counter())[m] += n
            months.add(m)
            if name == "category":
                total += n
        table[name] = by_value
    return Figures(sorted(months), table, total)
