"""Reading external reports: what the case page, the queues page and the Reports page show.

Nothing here changes a row; the engine (filing, pipeline) does that.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from console.audit import AuditEvent
from console.cases.models import Case
from console.extensions import db
from console.policies.models import Policy
from console.queues.queries import CasePage, keyset_page
from console.reporting import filing, rules
from console.reporting.models import (
    ACTIVE_STATES,
    PARKED_STATES,
    REPORT_STATES,
    ExternalReport,
    ReportContent,
    ReportingRule,
    rule_policies,
)
from console.timeutil import utcnow

# An active report nobody has moved for this long needs a person to look (worker down, Redis lost the job).
STALE_AFTER = timedelta(minutes=15)

STATE_FILTERS = {"": "All reports", "attention": "Needs attention", **REPORT_STATES}


# --- the case page ----------------------------------------------------------------------------------------


@dataclass
class CasePanel:
    """What the case page shows about NCMEC for one case."""

    case: Case
    rule: ReportingRule | None
    report: ExternalReport | None  # the live report for this content (maybe filed from another case)
    history: list[ExternalReport]  # every report that held this case's content, newest first

    @property
    def required(self) -> bool:
        """A confirmed violation covered by an enabled rule, with no live report for the content yet."""
        return self.case.status == "violation" and self.rule is not None and self.report is None

    @property
    def shown(self) -> ExternalReport | None:
        return self.report or (self.history[0] if self.history else None)

    @property
    def polling(self) -> bool:
        """The case page keeps asking only while a worker may still move the report."""
        return self.report is not None and self.report.is_active


def case_panel(case: Case) -> CasePanel:
    """The case's NCMEC panel: its view computes it once per render, for the banner and the panel both."""
    rule = rules.rule_for_case(case)
    report = filing.existing_report_for(case, rule.agency_id) if rule else None
    # Reports about this case's content, alone or with other contents of its incident (report_contents).
    holding = select(ReportContent.report_id).where(ReportContent.case_id == case.id)
    history = list(
        db.session.scalars(
            select(ExternalReport)
            .where(or_(ExternalReport.id.in_(holding), ExternalReport.case_id == case.id))
            .order_by(ExternalReport.id.desc())
        )
    )
    if report is None:
        # A report filed under a rule since disabled still belongs on its case: its newest live one.
        report = next((r for r in history if r.live), None)
    return CasePanel(case, rule, report, history)


# --- the queues page and the cases behind its count ---------------------------------------------------------


def page_of_required_cases(after: str | None = None, size: int = 50) -> CasePage:
    """Cases whose moderator was asked to file an NCMEC report not yet filed, in every queue, oldest first.

    The same rows the queues page counts (`reports_required_count`): the flag and the policies an enabled
    rule covers, found through the partial index on `cases.ncmec_report_required`.
    """
    covered = rules.covered_policy_ids()
    if not covered:
        return CasePage([], None)
    query = select(Case).where(Case.ncmec_report_required, Case.policy_id.in_(covered))
    return keyset_page(query.options(joinedload(Case.queue)), after, size)


def reports_required_count() -> int:
    """Cases whose moderator was asked to file an NCMEC report that is not filed yet, under an enabled rule.

    One statement: the policies enabled rules cover (those they name and every one below them, a recursive
    CTE: `rules.covered_policy_ids` in SQL, where reading the rules, their policies and the tree took three),
    and the count through the partial index on `cases.ncmec_report_required`, never by scanning decided cases.
    """
    named = (
        select(rule_policies.c.policy_id.label("id"))
        .join(ReportingRule, ReportingRule.id == rule_policies.c.rule_id)
        .where(ReportingRule.enabled.is_(True))
    )
    covered = named.cte("covered", recursive=True)
    covered = covered.union(select(Policy.id).join(covered, Policy.parent_id == covered.c.id))
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Case)
            # The partial index's predicate, then the covered policies.
            .where(Case.ncmec_report_required, Case.policy_id.in_(select(covered.c.id)))
        )
        or 0
    )


def reports_about_user(reported_user_id: int, limit: int = 100) -> list[ExternalReport]:
    """The CyberTips filed about a reported user, from any of their cases, newest first."""
    return list(
        db.session.scalars(
            select(ExternalReport)
            .join(Case, Case.id == ExternalReport.case_id)
            .where(Case.reported_user_id == reported_user_id)
            .options(selectinload(ExternalReport.contents))
            .order_by(ExternalReport.id.desc())
            .limit(limit)
        )
    )


# --- the reported user's page: several contents, one report ------------------------------------------------


@dataclass(frozen=True)
class BundleChoice:
    """Whether one of the user's cases can go into a report about several contents, and if not, why."""

    state: str  # "free" | "in_report" | "not_confirmed" | "not_covered"
    report: ExternalReport | None = None

    @property
    def free(self) -> bool:
        return self.state == "free"


@dataclass
class BundleChoices:
    user_id: int
    by_case: dict[int, BundleChoice]

    @property
    def free_count(self) -> int:
        return sum(1 for c in self.by_case.values() if c.free)


def bundle_choices(user, cases: list[Case]) -> BundleChoices:
    """For each case of the page: may it be chosen for one report with others? A content already in a live
    report (finished, or being filed) shows that report and cannot be chosen; so can neither an unconfirmed
    content nor one no enabled rule covers. Live reports are found for the whole page at once."""
    by_case: dict[int, BundleChoice] = {}
    covered: dict[int, list[Case]] = {}
    for case in cases:
        if case.status != "violation":
            by_case[case.id] = BundleChoice("not_confirmed")
            continue
        rule = rules.rule_for_case(case)
        if rule is None:
            by_case[case.id] = BundleChoice("not_covered")
            continue
        covered.setdefault(rule.agency_id, []).append(case)
    for agency_id, group in covered.items():
        taken = filing.live_reports_for(group, agency_id)
        for case in group:
            report = taken.get(case.id)
            by_case[case.id] = BundleChoice("in_report", report) if report else BundleChoice("free")
    return BundleChoices(user.id, by_case)


# --- the Reports page -------------------------------------------------------------------------------------


def _attention_clause():
    now = utcnow()
    stale = now - STALE_AFTER
    return or_(
        ExternalReport.state.in_((*PARKED_STATES, "submit_unknown")),
        and_(
            ExternalReport.state.in_(ACTIVE_STATES),
            ExternalReport.updated_at < stale,
            # Waiting for its time (a retry's backoff, a gathering window) is not being stuck.
            or_(ExternalReport.next_attempt_at.is_(None), ExternalReport.next_attempt_at <= now),
        ),
    )


@dataclass
class ReportPage:
    reports: list[ExternalReport]
    next_after: int | None


def page_of_reports(state: str = "", after: int | None = None, limit: int = 50) -> ReportPage:
    """Newest first, keyset-paginated by id (never OFFSET): `after` is the last id of the previous page."""
    query = select(ExternalReport).options(selectinload(ExternalReport.case))
    if state == "attention":
        query = query.where(_attention_clause())
    elif state:
        query = query.where(ExternalReport.state == state)
    if after:
        query = query.where(ExternalReport.id < after)
    rows = list(db.session.scalars(query.order_by(ExternalReport.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return ReportPage(rows, rows[-1].id if more and rows else None)


def attention_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ExternalReport).where(_attention_clause())) or 0


def report_history(report_id: int) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "external_report", AuditEvent.object_id == str(report_id))
            .order_by(AuditEvent.id)
        )
    )
