"""In Chromium, what a person reads: a case on a 390-px phone from reading to filing, times in the reader's
own zone with UTC at hand, the colour toggle's state, and the annotations-by-policy page at a glance."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from console.extensions import db
from console.ncmec import IncidentType
from console.policies.models import Policy
from tests import factories
from tests.browser.helpers import sign_in
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import run_jobs

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def within_the_screen(page, locator) -> None:
    """Visible, and all of it between the screen's edges (reachable without scrolling sideways)."""
    expect(locator).to_be_visible()
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1, box
    assert box["width"] >= 24, f"squeezed to {box['width']}px"  # a column, not one letter per line


def test_a_reviewer_on_a_phone_reads_reveals_decides_and_files(ctx, browser, live_server, ncmec_simulator):
    from console import tasks

    tasks.task_queue().empty()
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    c = factories.case(
        factories.queue("User reports", "user_report"),
        images=2,
        text="A long reported message that must wrap inside the content column, not one letter per line.",
        content_url="https://platform.example/p/7",
        reported_user={"platform_id": "u-7", "name": "Rex Reported", "email": "rex@platform.example"},
    )
    case_id, first_id, csam_id = c.id, c.media[0].id, policies["csam"].id
    db.session.rollback()  # the live server writes too

    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, "mod@example.org")
        within_the_screen(page, page.get_by_role("button", name="Sign out"))
        page.goto(f"/cases/{case_id}")
        within_the_screen(page, page.locator(".text-content"))
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        media = page.locator(f"#media-{first_id}")
        reveal = media.get_by_role("button", name=re.compile("^Reveal"))
        within_the_screen(page, reveal)
        reveal.click()  # a real click: nothing else may lie over the button
        expect(media.get_by_text("Viewed by you")).to_be_visible()

        within_the_screen(page, page.get_by_label("Policy"))
        page.get_by_label("Policy").select_option(str(csam_id))
        confirm = page.get_by_role("button", name="Confirm violation")
        within_the_screen(page, confirm)
        confirm.click()

        dialog = page.get_by_role("dialog", name="Report to NCMEC")
        expect(dialog).to_be_visible()
        box = dialog.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, box
        assert page.evaluate("document.getElementById('modal').scrollWidth <= innerWidth")
        incident = dialog.get_by_label(IncidentType.CHILD_PORNOGRAPHY.label)
        incident.check()
        submit = dialog.get_by_role("button", name="Submit report")
        within_the_screen(page, submit)
        submit.click()
        expect(dialog).to_be_hidden()
        run_jobs(ctx)
        expect(page.locator("#ncmec-report-id")).to_have_text(re.compile(r"^\d+$"), timeout=15_000)
        within_the_screen(page, page.locator("#ncmec-reporting"))
    finally:
        context.close()


def test_times_are_in_the_readers_zone_with_utc_at_hand(ctx, browser, live_server, ncmec_simulator):
    """A finished report's detail page in New York: every time is local, its tooltip UTC; no raw ISO text."""
    from console import tasks

    tasks.task_queue().empty()
    from console.cases import service as cases
    from console.reporting import service as reporting

    policies, _review, rule = reporting_setup(ncmec_simulator)
    factories.user("admin", email="ada@example.org", name="Ada Admin").child_safety_access = True
    mod = factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    c = factories.case(factories.queue(), images=1, content_url="https://platform.example/p/8")
    cases.decide(c.id, "violation", policies["csam"].id, mod)
    report, _created = reporting.file_report(
        cases.load_case(c.id), rule, IncidentType.CHILD_PORNOGRAPHY.value, actor=mod
    )
    run_jobs(ctx)
    report_id = report.id
    db.session.commit()
    db.session.rollback()

    context = browser.new_context(base_url=live_server.url, timezone_id="America/New_York")
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, "ada@example.org")
        page.goto(f"/reports/{report_id}")
        times = page.locator("time[datetime]")
        expect(times.first).to_be_visible()
        assert times.count() >= 4  # created, submitted, finished, originally reported
        for i in range(times.count()):
            t = times.nth(i)
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", t.get_attribute("title")), t.get_attribute(
                "title"
            )
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d (EST|EDT|GMT-5|GMT-4)", t.inner_text()), (
                t.inner_text()
            )
        body = page.locator("main").inner_text()
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", body), "a raw ISO time is shown"
        expect(page.locator("main")).to_contain_text(IncidentType.CHILD_PORNOGRAPHY.label)
        expect(page.locator("main")).not_to_contain_text(IncidentType.CHILD_PORNOGRAPHY.value)
    finally:
        context.close()


def test_the_colour_toggle_says_what_it_will_do_and_its_state(ctx, page):
    factories.user("moderator", email="mod@example.org")
    c = factories.case(factories.queue(), images=1)
    case_id, media_id = c.id, c.media[0].id
    db.session.rollback()
    sign_in(page, "mod@example.org")
    page.goto(f"/cases/{case_id}")
    item = page.locator(f"#media-{media_id}")
    item.get_by_role("button", name=re.compile("^Reveal")).click()
    toggle = item.get_by_role("button", name="Show in colour")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    toggle = item.get_by_role("button", name="Show in grayscale")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(item.locator("img.in-colour")).to_have_count(1)
    toggle.click()
    expect(item.get_by_role("button", name="Show in colour")).to_have_attribute("aria-pressed", "false")
    expect(item.locator("img.grayscale")).to_have_count(1)


def test_annotations_by_policy_fold_what_is_not_in_use_one_line_per_checkbox(ctx, page):
    factories.user("admin", email="ada@example.org")
    policies = factories.policy_tree()
    for slug in ("hate", "scam", "violence", "self-harm", "terror", "fraud", "impersonation"):
        db.session.add(Policy(slug=slug, name=slug.capitalize()))
    policies["sextortion"].ncmec_report_annotations = ["sextortion", "minorToMinorInteraction"]
    sextortion_id, csam_id = policies["sextortion"].id, policies["csam"].id
    db.session.commit()

    sign_in(page, "ada@example.org")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/settings/cybertip-details")
    section = page.locator("#policy-annotations")
    in_use, unused = (
        page.locator(f"#policy-annotations-{sextortion_id}"),
        page.locator(f"#policy-annotations-{csam_id}"),
    )
    expect(in_use).to_have_attribute("open", "")
    expect(in_use.locator("summary")).to_contain_text("Sextortion, Minor-to-minor interaction")
    expect(unused).not_to_have_attribute("open", "")
    expect(unused.locator("input[type=checkbox]")).to_have_count(5)
    expect(unused.locator("input[type=checkbox]").first).to_be_hidden()
    height = section.bounding_box()["height"]
    assert height < 1200, f"the annotations section is {height}px tall"

    # Each checkbox beside its own label, on one line.
    for box in in_use.get_by_role("checkbox").all():
        label = in_use.locator(f"label[for='{box.get_attribute('id')}']")
        b, lb = box.bounding_box(), label.bounding_box()
        assert abs((b["y"] + b["height"] / 2) - (lb["y"] + lb["height"] / 2)) < 6, (b, lb)
        assert b["x"] < lb["x"] and lb["x"] - (b["x"] + b["width"]) < 16, (b, lb)

    unused.locator("summary").click()
    unused.get_by_label("CSAM solicitation").check()
    unused.get_by_role("button", name="Save").click()
    expect(page.locator(f"#policy-annotations-{csam_id}")).to_have_attribute("open", "")
    expect(page.locator(f"#policy-annotations-{csam_id} summary")).to_contain_text("CSAM solicitation")
