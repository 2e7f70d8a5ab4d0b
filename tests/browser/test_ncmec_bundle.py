"""In Chromium: from the reported user's page, a moderator files three confirmed contents as one CyberTip."""

import re

import pytest
from playwright.sync_api import expect

from console.cases import service as cases
from console.extensions import db
from console.ncmec import IncidentType
from tests import factories
from tests.browser.helpers import sign_in
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import run_jobs

pytestmark = pytest.mark.browser
USER = {"platform_id": "u-31", "name": "Ursula Uploader", "email": "ursula@platform.example"}


def test_moderator_files_three_contents_of_one_user_as_one_report(app, ctx, page, ncmec_simulator):
    from console import tasks

    tasks.task_queue().empty()
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    mod = factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    q = factories.queue("User reports", "user_report")
    contents = [
        factories.case(q, images=2, content_url=f"https://platform.example/p/31-{i}", reported_user=USER)
        for i in range(4)
    ]
    with app.test_request_context():
        for c in contents:
            cases.decide(c.id, "violation", policies["csam"].id, mod)
    chosen, left_out = contents[:3], contents[3]
    ids = [c.id for c in chosen]
    md5s = sorted(m.md5 for c in chosen for m in c.media)
    user_id, left_out_id = chosen[0].reported_user_id, left_out.id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "mod@example.org")
    page.goto(f"/reported-users/{user_id}")
    for case_id in ids:
        page.get_by_label("Include in one NCMEC report").and_(page.locator(f"#bundle-case-{case_id}")).check()
    page.get_by_role("button", name="Report selected to NCMEC").click()

    dialog = page.get_by_role("dialog", name="Report to NCMEC")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#ncmec-bundle-cases")).to_contain_text(
        "One incident: 3 contents of Ursula Uploader"
    )
    expect(dialog.locator("#ncmec-contents li")).to_have_count(3)
    expect(dialog.locator(".ncmec-file")).to_have_count(6)
    expect(dialog).to_contain_text("cannot be withdrawn once NCMEC accepts it")
    # A choice refreshes the exact preview (htmx), for the three contents still.
    dialog.get_by_label("Sextortion").check()
    expect(dialog.locator("#ncmec-report-xml pre")).to_contain_text("<sextortion/>")
    expect(dialog.locator("#ncmec-report-xml pre")).to_contain_text("Content 3 of 3")
    dialog.get_by_label(IncidentType.CHILD_PORNOGRAPHY.label).check()
    dialog.get_by_role("button", name="Submit report").click()

    expect(
        page.locator(".flash, [role=status]").filter(has_text="one report with 3 contents")
    ).to_be_visible()
    for case_id in ids:
        expect(page.locator(f"#ncmec-choice-{case_id}")).to_contain_text("In NCMEC report")
    expect(page.locator(f"#bundle-case-{left_out_id}")).to_be_visible()  # not chosen: still free

    run_jobs(ctx)
    [finished] = ncmec_simulator.reports("finished")
    assert len(ncmec_simulator.reports()) == 1
    assert sorted(f["md5"] for f in finished["files"]) == md5s  # every file of the three contents
    assert all(f["details_received"] for f in finished["files"])
    assert finished["urls"] == [f"https://platform.example/p/31-{i}" for i in range(3)]
    assert finished["report_annotations"] == ["sextortion"]
    page.reload()
    for case_id in ids:
        expect(page.locator(f"#ncmec-choice-{case_id}")).to_contain_text(
            re.compile(rf"Reported in CyberTip {finished['report_id']}")
        )
    page.goto(f"/cases/{ids[1]}")
    expect(page.locator("#ncmec-bundle")).to_contain_text("3 contents of one user in this report")
