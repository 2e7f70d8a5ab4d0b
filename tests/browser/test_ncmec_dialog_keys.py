"""In Chromium: a moderator classifies files and escalates with the keys; the exact preview follows."""

import pytest
from playwright.sync_api import expect

from console.extensions import db
from console.ncmec import IncidentType
from tests import factories
from tests.browser.helpers import sign_in
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import reports, run_jobs

pytestmark = pytest.mark.browser


def test_classify_with_1_to_4_and_escalate_with_e(ctx, page, ncmec_simulator):
    from console import tasks

    tasks.task_queue().empty()
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    c = factories.case(factories.queue("User reports", "user_report"), images=2)
    case_id, policy_id = c.id, policies["csam"].id
    first, second = (m.id for m in c.media)
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "mod@example.org")
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Policy").select_option(str(policy_id))
    page.get_by_role("button", name="Confirm violation").click()
    dialog = page.get_by_role("dialog", name="Report to NCMEC")
    expect(dialog).to_be_visible()

    # The first file's classification has the focus: 2 is A2, on that file only.
    expect(dialog.locator(f"#classification-{first}")).to_be_focused()
    page.keyboard.press("2")
    expect(dialog.locator(f"#classification-{first}")).to_have_value("A2")
    expect(dialog.locator(f"#classification-{second}")).to_have_value("")
    # Tab to the next file and press 4 (B2), then 0 clears it again, then 3 (B1).
    dialog.locator(f"#ncmec-file-{second}").focus()
    page.keyboard.press("4")
    expect(dialog.locator(f"#classification-{second}")).to_have_value("B2")
    page.keyboard.press("0")
    expect(dialog.locator(f"#classification-{second}")).to_have_value("")
    page.keyboard.press("3")
    expect(dialog.locator(f"#classification-{second}")).to_have_value("B1")

    # E escalates and moves to the reason; typing an "e" there is text, not the key.
    escalate = dialog.get_by_label("Escalate to high priority")
    expect(escalate).not_to_be_checked()
    page.keyboard.press("e")
    expect(escalate).to_be_checked()
    reason = dialog.get_by_label("Why it is urgent")
    expect(reason).to_be_focused()
    page.keyboard.type("The uploader says the abuse continues tonight.")
    expect(escalate).to_be_checked()
    page.keyboard.press("Tab")  # leaving the reason is a change: the exact preview follows

    preview = dialog.locator("#ncmec-preview")
    expect(preview).to_contain_text(
        "<escalateToHighPriority>The uploader says the abuse continues tonight.</escalateToHighPriority>"
    )
    expect(preview).to_contain_text("<industryClassification>A2</industryClassification>")
    expect(preview).to_contain_text("<industryClassification>B1</industryClassification>")

    dialog.get_by_label(IncidentType.CHILD_PORNOGRAPHY.label).check()
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#ncmec-reporting")).to_contain_text("Queued")

    run_jobs(ctx)
    [report] = reports()
    assert report.state == "finished" and report.escalate
    full = ncmec_simulator.report(report.ncmec_report_id)
    assert full["escalate_to_high_priority"] == "The uploader says the abuse continues tonight."
    assert [f["industry_classification"] for f in full["files"]] == ["A2", "B1"]
