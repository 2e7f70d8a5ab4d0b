"""An admin's setup, in Debian's Chromium: connect NCMEC to the local simulator, add the rule, pause it."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from console.extensions import db
from console.reporting import agencies, credentials
from console.reporting.models import ReportingRule
from tests import factories
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser

RULE = "NCMEC — CSAM auto report"


def test_admin_connects_ncmec_and_adds_a_rule_in_the_browser(ctx, page, ncmec_simulator):
    factories.user("admin", email="admin@example.org", name="Ada Admin")
    factories.policy_tree()
    ai_queue = factories.queue("AI review", "ai_review")
    factories.queue("User reports", "user_report")
    queue_label = f"{ai_queue.name} (AI review)"
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "admin@example.org")
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("link", name="External reporting").click()
    expect(page.get_by_role("heading", name="External reporting")).to_be_visible()
    expect(page.get_by_text("NCMEC", exact=False).first).to_be_visible()

    # Connect NCMEC to the local simulator, then test the connection in place.
    page.get_by_label("Environment").select_option(label="Custom base URL")
    page.get_by_label("Custom base URL").fill(ncmec_simulator.base_url)
    page.get_by_label("ESP username").fill(ncmec_simulator.username)
    page.get_by_label("Password").fill(ncmec_simulator.password)
    page.get_by_role("button", name="Save connection").click()
    expect(page.get_by_text("Connection settings saved.")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_value("")
    page.get_by_role("button", name="Test connection").click()
    status = page.locator(".connection-status")
    expect(status).to_contain_text("Connected")
    expect(status).to_contain_text("Last checked")

    # Add the rule from the product brief.
    page.get_by_role("link", name="Add rule").click()
    page.get_by_label("Rule name").fill(RULE)
    expect(page.get_by_label("Agency")).to_have_value(str(agencies.ncmec().id))
    db.session.rollback()
    policies = page.get_by_role("group", name="Policies")
    expect(policies).to_contain_text("covers: CSAM, Grooming, Sextortion")
    policies.get_by_label("Child safety").check()
    page.get_by_label("Review queue").select_option(label=queue_label)
    page.get_by_label("First name").fill("Rita")
    page.get_by_label("Last name").fill("Reporter")
    page.get_by_label("Email", exact=True).fill("rita@example.org")
    page.get_by_role("button", name="Add rule").click()
    rules = page.locator("#rules")
    expect(rules).to_contain_text(f"Rule “{RULE}” added.")
    expect(rules).to_contain_text("covers: Child safety, CSAM, Grooming, Sextortion")

    # Pause it with the toggle, in place.
    toggle = page.get_by_role("switch", name=f"Enabled: {RULE}")
    expect(toggle).to_have_attribute("aria-checked", "true")
    toggle.click()
    expect(page.get_by_role("switch", name=f"Enabled: {RULE}")).to_have_attribute("aria-checked", "false")
    expect(rules).to_contain_text("paused.")

    db.session.expire_all()
    rule = db.session.scalar(select(ReportingRule).where(ReportingRule.name == RULE))
    assert rule.enabled is False
    assert [p.name for p in rule.policies] == ["Child safety"] and rule.review_queue_id == ai_queue.id
    agency = agencies.ncmec()
    assert agency.last_check_status == "connected"
    assert credentials.decrypt(agency.password_encrypted) == ncmec_simulator.password
    db.session.rollback()

    page.goto("/settings/")
    page.get_by_role("link", name="Audit log").click()
    log = page.locator("#audit-table")
    for action in (
        "agency configured",
        "agency connection tested",
        "reporting rule created",
        "reporting rule paused",
    ):
        expect(log).to_contain_text(action)
    expect(log).to_contain_text("Ada Admin")
    assert ncmec_simulator.password not in page.content()
