"""In Chromium: a moderator confirms CSAM, the "Report to NCMEC" dialog opens, the report is filed."""

import re

import pytest
from playwright.sync_api import expect

from console.extensions import db
from console.ncmec import IncidentType
from tests import factories
from tests.browser.helpers import sign_in
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import run_jobs

pytestmark = pytest.mark.browser


def test_moderator_files_an_ncmec_report_from_the_dialog(ctx, page, ncmec_simulator):
    from console import tasks

    tasks.task_queue().empty()
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    q = factories.queue("User reports", "user_report")
    c = factories.case(
        q,
        images=2,
        content_url="https://platform.example/p/7",
        reported_user={"platform_id": "u-7", "name": "Rex Reported", "email": "rex@platform.example"},
    )
    case_id, first_id, second_id, policy_id = c.id, c.media[0].id, c.media[1].id, policies["csam"].id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "mod@example.org")
    page.goto(f"/cases/{case_id}")
    page.locator(f"#media-{first_id}").get_by_role("button", name=re.compile("Reveal")).click()
    expect(page.locator(f"#media-{first_id}").get_by_text("Viewed by you")).to_be_visible()
    page.get_by_label("Policy").select_option(str(policy_id))
    page.get_by_role("button", name="Confirm violation").click()

    dialog = page.get_by_role("dialog", name="Report to NCMEC")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.getElementById('modal').contains(document.activeElement)")
    expect(dialog.locator(f"#ncmec-file-{first_id}")).to_contain_text("Viewed by a person: yes")
    expect(dialog.locator(f"#ncmec-file-{second_id}")).to_contain_text("Viewed by a person: no")
    expect(dialog).to_contain_text("cannot be withdrawn once NCMEC accepts it")
    expect(dialog.get_by_label(IncidentType.CHILD_PORNOGRAPHY.label)).to_be_checked()

    # Escape closes it (Not now); the case keeps asking for the report, and the dialog opens again.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    banner = page.locator("#case-banners")
    expect(banner).to_contain_text("NCMEC report required")
    banner.get_by_role("link", name="Report to NCMEC").click()
    expect(dialog).to_be_visible()

    dialog.get_by_label(IncidentType.CHILD_PORNOGRAPHY.label).check()
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog).to_be_hidden()
    panel = page.locator("#ncmec-reporting")
    expect(panel).to_contain_text("Queued")
    expect(banner).not_to_contain_text("NCMEC report required")

    run_jobs(ctx)  # a real RQ worker, burst mode; the panel polls every 2 s until the id appears
    expect(page.locator("#ncmec-report-id")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
    expect(panel).to_contain_text("Finished")

    [finished] = ncmec_simulator.reports("finished")
    assert len(ncmec_simulator.reports()) == 1
    expect(page.locator("#ncmec-report-id")).to_have_text(finished["report_id"])
    assert [f["file_viewed_by_esp"] for f in finished["files"]] == [True, False]
    assert finished["incident_type"] == IncidentType.CHILD_PORNOGRAPHY.value
