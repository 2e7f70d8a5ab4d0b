"""In Chromium: a moderator confirms CSAM on a case; the demo platform (demo_platform/, over real HTTP) shows
the content removed and the account disabled, the CyberTip says the account was disabled, and the case's
deliveries list both events."""

import re

import pytest
from lxml import etree
from playwright.sync_api import expect

from console import demo
from console.extensions import db
from console.ncmec import IncidentType
from demo_platform import PlatformServer
from tests import factories
from tests.browser.helpers import sign_in
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import run_jobs
from tests.webhooks.conftest import SECRET

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_platform():
    server = PlatformServer(SECRET).start()
    yield server
    server.shutdown()


def test_confirming_csam_reaches_the_platform_and_the_cybertip(ctx, page, ncmec_simulator, demo_platform):
    from console import tasks

    tasks.task_queue().empty()
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    demo.connect_platform(demo_platform.webhook_url, SECRET)
    factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    c = factories.case(
        factories.queue("User reports", "user_report"),
        images=1,
        content_id="post-4242",
        content_url="https://platform.example/p/4242",
        reported_user={"platform_id": "u-4242", "name": "Rex Reported", "email": "rex@platform.example"},
    )
    case_id, policy_id = c.id, policies["csam"].id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "mod@example.org")
    page.goto(f"/cases/{case_id}")
    page.get_by_label("Policy").select_option(str(policy_id))
    actions = page.locator("#platform-actions")
    expect(actions).to_contain_text("Remove content")  # the chosen policy's actions, swapped in
    expect(actions).to_contain_text("Disable account permanently")
    expect(actions.get_by_label("Disable account permanently")).to_be_disabled()  # not skippable
    page.get_by_role("button", name="Confirm violation").click()
    dialog = page.get_by_role("dialog", name="Report to NCMEC")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#ncmec-platform-actions")).to_contain_text("account.disable")

    run_jobs(ctx)  # a real RQ worker delivers both events to the demo platform
    page.keyboard.press("Escape")
    page.locator("#case-banners").get_by_role("link", name="Report to NCMEC").click()
    expect(dialog.locator("#ncmec-account-status")).to_contain_text("disabled permanently")
    expect(dialog.locator("#ncmec-platform-actions")).to_contain_text("Delivered")
    dialog.get_by_label(IncidentType.CHILD_PORNOGRAPHY.label).check()
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog).to_be_hidden()

    run_jobs(ctx)  # files the report (asking the demo platform for enrichment first), then preservation
    run_jobs(ctx)
    expect(page.locator("#ncmec-report-id")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)

    [finished] = ncmec_simulator.reports("finished")
    sent = etree.fromstring(ncmec_simulator.report(finished["report_id"])["xml"].encode())
    status = sent.find("personOrUserReported/accountPermanentlyDisabled")
    assert status is not None and status.text == "true" and status.get("disabledDate")
    assert sent.find("personOrUserReported/deviceId") is not None  # the demo platform's enrichment

    page.goto(f"/cases/{case_id}/deliveries")
    for kind in ("content.remove", "account.disable"):
        expect(page.locator(".delivery", has_text=kind)).to_contain_text("Delivered")

    page.goto(demo_platform.root_url + "/")
    expect(page.locator('#content tr[data-content="post-4242"]')).to_contain_text("removed")
    expect(page.locator('#accounts tr[data-account="u-4242"]')).to_contain_text("disabled permanently")
    expect(page.locator("#preservations")).to_contain_text(finished["report_id"])
