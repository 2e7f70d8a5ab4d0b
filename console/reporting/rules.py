"""Which reporting rule covers a policy, and which policies a rule covers: the one home of both.

A rule covers the policies it names and every sub-policy below them, including sub-policies created after
the rule (coverage is computed from the tree at decision time, never stored per sub-policy).

Two enabled rules covering the same policy is a configuration conflict. The settings page warns about it;
until it is fixed the console behaves predictably: the rule that names the NEAREST policy up the tree wins
(a rule on "CSAM" beats one on "Child safety" for a CSAM case), and between equally near rules the oldest
rule (lowest id) wins. Either way one content gets one report (the database enforces it per agency).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from console.cases.models import Case
from console.extensions import db
from console.policies.service import lineage_ids, subtree_ids
from console.reporting.models import ReportingRule, rule_policies


def enabled_rules_covering(policy_id: int | None) -> list[ReportingRule]:
    """Enabled rules covering the policy, the winning rule first."""
    if policy_id is None:
        return []
    lineage = lineage_ids(policy_id)
    rows = db.session.execute(
        select(ReportingRule, rule_policies.c.policy_id)
        .join(rule_policies, rule_policies.c.rule_id == ReportingRule.id)
        .where(ReportingRule.enabled.is_(True), rule_policies.c.policy_id.in_(lineage))
    ).all()
    best: dict[int, tuple[int, ReportingRule]] = {}
    for rule, named_policy in rows:
        distance = lineage.index(named_policy)
        if rule.id not in best or distance < best[rule.id][0]:
            best[rule.id] = (distance, rule)
    return [rule for _d, rule in sorted(best.values(), key=lambda pair: (pair[0], pair[1].id))]


def rule_for(policy_id: int | None) -> ReportingRule | None:
    rules = enabled_rules_covering(policy_id)
    return rules[0] if rules else None


def rule_for_case(case: Case) -> ReportingRule | None:
    """The enabled rule covering the case's confirmed violation; None for a case that is not one."""
    return rule_for(case.policy_id) if case.status == "violation" else None


def policies_covered_by(rule: ReportingRule) -> set[int]:
    """The policies the rule names and every sub-policy below them, as the tree is now."""
    covered: set[int] = set()
    for policy in rule.policies:
        covered.update(subtree_ids(policy.id))
    return covered


def covered_policy_ids() -> set[int]:
    """Every policy an enabled rule covers."""
    enabled = db.session.scalars(
        select(ReportingRule)
        .where(ReportingRule.enabled.is_(True))
        .options(selectinload(ReportingRule.policies))
    )
    return set().union(*(policies_covered_by(rule) for rule in enabled))


def conflicts() -> dict[int, list[ReportingRule]]:
    """Policy id → the enabled rules that all cover it, for every policy covered more than once."""
    covered: dict[int, list[ReportingRule]] = {}
    for rule in db.session.scalars(select(ReportingRule).where(ReportingRule.enabled.is_(True))):
        for pid in policies_covered_by(rule):
            covered.setdefault(pid, []).append(rule)
    return {pid: rules for pid, rules in covered.items() if len(rules) > 1}
