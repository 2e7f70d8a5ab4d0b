"""In Chromium: the "Report to NCMEC" dialog opens at its top, and the rule form's buttons line up."""

import re

import pytest
from playwright.sync_api import expect

from console.extensions import db
from tests import factories
from tests.browser.helpers import sign_in
from tests.reporting.helpers import reporting_setup

pytestmark = pytest.mark.browser


def open_report_dialog(page, *, images: int, simulator):
    policies, _review, _rule = reporting_setup(simulator)
    factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    c = factories.case(factories.queue("User reports", "user_report"), images=images, text="x " * 200)
    case_id, policy_id = c.id, policies["csam"].id
    media_ids = [m.id for m in c.media]
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "mod@example.org")
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Policy").select_option(str(policy_id))
    page.get_by_role("button", name="Confirm violation").click()
    dialog = page.get_by_role("dialog", name="Report to NCMEC")
    expect(dialog).to_be_visible()
    return dialog, media_ids


def in_view(page, locator) -> bool:
    """Whether the element is inside the dialog's visible area (the dialog scrolls, not the page)."""
    box, frame = locator.bounding_box(), page.locator("#modal").bounding_box()
    return frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]


def test_the_report_dialog_opens_at_its_top_with_the_focus_on_the_first_decision(ctx, page, ncmec_simulator):
    page.set_viewport_size({"width": 1280, "height": 720})
    dialog, [first, _second] = open_report_dialog(page, images=2, simulator=ncmec_simulator)

    expect(page.locator(f"#classification-{first}")).to_be_focused()
    assert page.evaluate("document.getElementById('modal').scrollTop") == 0
    for seen in (
        dialog.get_by_role("heading", name="Report to NCMEC"),
        dialog.get_by_text("A report cannot be withdrawn once NCMEC accepts it."),
        dialog.get_by_role("heading", name="What will be sent"),
        page.locator(f"#classification-{first}"),
    ):
        assert in_view(page, seen), seen

    # Closed and opened again from the banner: again at its top, even after being scrolled down.
    page.evaluate("document.getElementById('modal').scrollTop = 10000")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.locator("#case-banners").get_by_role("link", name="Report to NCMEC").click()
    expect(dialog).to_be_visible()
    expect(page.locator(f"#classification-{first}")).to_be_focused()
    assert page.evaluate("document.getElementById('modal').scrollTop") == 0


def test_without_files_the_first_decision_is_the_incident_type(ctx, page, ncmec_simulator):
    page.set_viewport_size({"width": 1280, "height": 720})
    dialog, _ = open_report_dialog(page, images=0, simulator=ncmec_simulator)
    expect(dialog.get_by_label(re.compile("Child pornography"))).to_be_focused()
    assert page.evaluate("document.getElementById('modal').scrollTop") == 0
    assert in_view(page, dialog.get_by_role("heading", name="Report to NCMEC"))


def test_the_rule_form_buttons_are_the_same_height_on_one_line(ctx, page):
    factories.user("admin", email="admin@example.org", name="Ada Admin")
    factories.policy_tree()
    factories.queue("AI review", "ai_review")
    db.session.rollback()

    sign_in(page, "admin@example.org")
    page.goto("/settings/external-reporting")
    page.get_by_role("link", name="Add rule").click()
    add = page.get_by_role("button", name="Add rule").bounding_box()
    cancel = page.locator(".rule-form").get_by_role("link", name="Cancel").bounding_box()
    assert abs(add["height"] - cancel["height"]) < 1
    assert abs(add["y"] - cancel["y"]) < 1
