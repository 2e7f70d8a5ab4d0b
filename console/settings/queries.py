"""What Settings → External reporting shows: the policy picker, the rules overview, their conflicts, choices.

Nothing here changes a row; settings/service.py does that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from console.extensions import db
from console.policies.models import Policy
from console.policies.service import policy_tree, subtree_ids
from console.queues.models import Queue
from console.reporting import rules
from console.reporting.models import Agency, ExternalReport, ReportingRule


@dataclass(frozen=True)
class PolicyOption:
    id: int
    name: str
    depth: int
    covers: tuple[str, ...]  # the sub-policies a rule naming this policy covers too, as the tree is now


def policy_options() -> list[PolicyOption]:
    nodes = policy_tree()
    names = {n.policy.id: n.policy.name for n in nodes}
    out = []
    for node in nodes:
        below = [names[pid] for pid in subtree_ids(node.policy.id) if pid != node.policy.id and pid in names]
        out.append(
            PolicyOption(node.policy.id, node.policy.name, node.depth, tuple(sorted(below, key=str.lower)))
        )
    return out


@dataclass
class RuleOverview:
    rule: ReportingRule
    report_count: int
    covered: list[str] = field(default_factory=list)  # every policy the rule covers, named or below


@dataclass(frozen=True)
class Conflict:
    policy: Policy
    rules: list[ReportingRule]
    winner: ReportingRule | None


def rules_overview() -> list[RuleOverview]:
    counts = dict(
        db.session.execute(
            select(ExternalReport.rule_id, func.count(ExternalReport.id))
            .where(ExternalReport.rule_id.is_not(None))
            .group_by(ExternalReport.rule_id)
        ).all()
    )
    names = dict(db.session.execute(select(Policy.id, Policy.name)).all())
    out = []
    for rule in db.session.scalars(select(ReportingRule).order_by(ReportingRule.id)):
        covered = {names[pid] for pid in rules.policies_covered_by(rule) if names.get(pid)}
        out.append(RuleOverview(rule, counts.get(rule.id, 0), sorted(covered, key=str.lower)))
    return out


def rule_conflicts() -> list[Conflict]:
    """Policies covered by more than one enabled rule, with the rule that wins until an admin fixes it."""
    out = []
    for policy_id, covering in rules.conflicts().items():
        policy = db.session.get(Policy, policy_id)
        if policy is not None:
            out.append(Conflict(policy, sorted(covering, key=lambda r: r.id), rules.rule_for(policy_id)))
    return sorted(out, key=lambda c: c.policy.name)


def report_count(rule_id: int) -> int:
    return (
        db.session.scalar(select(func.count(ExternalReport.id)).where(ExternalReport.rule_id == rule_id)) or 0
    )


# --- the rule form's choices --------------------------------------------------------------------------------


def agencies() -> list[Agency]:
    return list(db.session.scalars(select(Agency).order_by(Agency.name)))


def queues() -> list[Queue]:
    return list(db.session.scalars(select(Queue).order_by(Queue.name)))


def new_rule_defaults() -> dict:
    """A new rule reports to NCMEC, and AI-detected cases wait in an AI review queue: offer the first one."""
    return {
        "agency": db.session.scalar(select(Agency.id).where(Agency.slug == "ncmec")),
        "review_queue": db.session.scalar(
            select(Queue.id).where(Queue.source_kind == "ai_review").order_by(Queue.id)
        ),
    }


def policy_annotations() -> dict[int, list[str]]:
    """Policy id → the NCMEC report annotations it preselects (its own, not inherited)."""
    rows = db.session.execute(select(Policy.id, Policy.ncmec_report_annotations)).all()
    return {pid: list(values or []) for pid, values in rows}
