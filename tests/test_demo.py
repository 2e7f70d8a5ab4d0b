"""The demo data a newcomer gets from `make run`: the product's flows work without any setup."""

from __future__ import annotations

from sqlalchemy import select

from console import demo
from console.extensions import db
from console.reporting.models import ReportingRule
from console.settings import queries
from console.settings import service as settings_service


def rules() -> list[ReportingRule]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReportingRule)))


def test_demo_data_includes_an_enabled_ncmec_rule_on_child_safety_with_the_ai_review_queue(ctx):
    demo.load(cases_per_queue=1)
    [rule] = rules()
    assert rule.name == "NCMEC — CSAM auto report" and rule.enabled
    assert rule.agency.slug == "ncmec"
    assert [p.name for p in rule.policies] == ["Child safety"]
    assert rule.review_queue.name == "AI review — child safety"
    assert "CSAM" in [o.covered for o in queries.rules_overview()][0]

    demo.load(cases_per_queue=1)  # idempotent
    assert len(rules()) == 1


def test_an_admin_can_pause_or_delete_the_demo_rule_and_it_stays_so(ctx):
    demo.load(cases_per_queue=1)
    [rule] = rules()
    settings_service.set_rule_enabled(rule.id, False, actor_label="admin")
    demo.load(cases_per_queue=1)
    [rule] = rules()
    assert not rule.enabled

    settings_service.delete_rule(rule.id, actor_label="admin")
    demo.load(cases_per_queue=1)
    assert rules() == []
