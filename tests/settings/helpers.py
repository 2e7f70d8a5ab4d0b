"""Shared steps for the settings tests."""

from __future__ import annotations

from console.extensions import db
from console.reporting import agencies
from console.settings import service
from tests import factories

PAGE = "/settings/external-reporting"
SECRET = "s3cret-ESP-pa55word"  # noqa: S105 - a test credential whose absence the tests look for


def admin_world():
    """An admin, the policy tree, an AI review queue and a user-reports queue."""
    admin = factories.user("admin", email="admin@example.org", name="Ada Admin")
    policies = factories.policy_tree()
    ai_queue = factories.queue("AI review", "ai_review")
    other_queue = factories.queue("User reports", "user_report")
    return admin, policies, ai_queue, other_queue


def rule_data(tree, queue, **overrides) -> dict:
    data = {
        "name": "NCMEC — CSAM auto report",
        "agency": str(agencies.ncmec().id),
        "policies": [str(tree["child-safety"].id)],
        "review_queue": str(queue.id),
        "contact_first_name": "Rita",
        "contact_last_name": "Reporter",
        "contact_email": "rita@example.org",
        "enabled": "y",
    }
    data.update(overrides)
    return data


def make_rule(policies, queue, *, name="NCMEC — CSAM auto report", policy="child-safety", enabled=True):
    fields = service.RuleFields(
        name=name,
        agency_id=agencies.ncmec().id,
        policy_ids=[policies[policy].id],
        review_queue_id=queue.id,
        contact_first_name="Rita",
        contact_last_name="Reporter",
        contact_email="rita@example.org",
    )
    rule = service.create_rule(fields, enabled=enabled)
    return rule


def connect(url: str, username: str, password: str) -> None:
    service.configure_agency(
        agencies.ncmec().id, environment="custom", custom_base_url=url, username=username, password=password
    )
    db.session.expire_all()
