"""The reviewer's day in Chromium: "Next case" for two people, three cases by keyboard, a claimed case."""

import re

import pytest
from playwright.sync_api import expect

from console.extensions import db
from tests import factories
from tests.browser.helpers import sign_in
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.settings.helpers import make_rule

pytestmark = pytest.mark.browser


def _second_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context, context.new_page()


def _case_id(page) -> int:
    heading = page.get_by_role("heading", name=re.compile(r"^Case #\d+"))
    expect(heading).to_be_visible()
    return int(re.search(r"Case #(\d+)", heading.inner_text()).group(1))


def _reviewing(page) -> int:
    """The case this page now holds: its scripts ran and it took the claim over (a key pressed while a page
    is still loading is lost, as it would be for a person)."""
    case_id = _case_id(page)
    expect(page.locator('#claim input[name="token"]')).to_have_count(1)
    return case_id


def test_two_moderators_press_next_case_in_one_queue_and_get_different_cases(ctx, page, browser, live_server):
    factories.user("moderator", email="ann@example.org", name="Ann")
    factories.user("moderator", email="bob@example.org", name="Bob")
    q = factories.queue("User reports")
    made = [factories.case(q, text=f"post {i}", hours_ago=10 - i).id for i in range(3)]
    queue_id = q.id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    other_context, bob = _second_page(browser, live_server)
    try:
        sign_in(page, "ann@example.org")
        sign_in(bob, "bob@example.org")
        page.goto(f"/queues/{queue_id}")
        bob.goto(f"/queues/{queue_id}")
        page.get_by_role("button", name="Start reviewing").click()
        bob.get_by_role("button", name="Start reviewing").click()
        ann_case, bob_case = _reviewing(page), _reviewing(bob)
        assert ann_case != bob_case and {ann_case, bob_case} <= set(made)
        expect(page.locator("#claim")).to_contain_text("You are reviewing this case")
        expect(bob.locator("#claim")).to_contain_text("You are reviewing this case")
        # Each sees the other's case as taken.
        page.goto(f"/cases/{bob_case}")
        expect(page.locator("#claim")).to_contain_text("Being reviewed by Bob")
    finally:
        other_context.close()


def test_a_moderator_works_three_cases_by_keyboard_and_the_ncmec_dialog_opens_for_child_safety(ctx, page):
    # The NCMEC dialog is for the child-safety team (console/childsafety).
    factories.user("moderator", email="mod@example.org", name="Kim Keys", child_safety=True)
    policies = factories.policy_tree()
    q = factories.queue("User reports")
    make_rule(policies, q)
    spam = factories.case(q, text="buy followers now", hours_ago=30, images=1)
    csam = factories.case(q, text="flagged upload", hours_ago=20, images=1, policy=policies["csam"])
    fine = factories.case(q, text="holiday photo", hours_ago=10, images=1)
    ids = [spam.id, csam.id, fine.id]
    media = [c.media[0].id for c in (spam, csam, fine)]
    queue_id, spam_id, csam_id = q.id, policies["spam"].id, policies["csam"].id
    db.session.commit()  # and no transaction left open: on SQLite it would hold the write lock

    sign_in(page, "mod@example.org")
    page.goto(f"/queues/{queue_id}")
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()

    def reveal(media_id: int) -> None:
        page.keyboard.press("r")  # the first press focuses the first hidden file …
        expect(page.locator(f"#media-{media_id}")).to_be_focused()
        page.keyboard.press("r")  # … the second reveals it, and only it
        expect(page.locator(f"#media-{media_id}")).to_contain_text("Viewed by you")
        expect(page.locator(f"#media-{media_id}")).to_be_focused()

    # Case 1: spam. n, reveal, c (the picker has the focus), choose, Enter.
    page.keyboard.press("n")
    assert _reviewing(page) == ids[0]
    expect(page.locator("#claim")).to_contain_text("You are reviewing this case")
    reveal(media[0])
    page.keyboard.press("c")
    picker = page.locator("#policy-picker")
    expect(picker).to_be_focused()
    page.keyboard.type("Spam")
    expect(picker).to_have_value(str(spam_id))
    page.keyboard.press("Enter")
    expect(page.locator("#decision")).to_contain_text("Violation confirmed")
    expect(page.locator('[data-key="next"]')).to_be_focused()  # focus is always somewhere visible

    # Case 2: alleged CSAM (the picker already says so). Confirming opens the NCMEC dialog; nothing is filed.
    page.keyboard.press("n")
    assert _reviewing(page) == ids[1]
    reveal(media[1])
    page.keyboard.press("c")
    expect(picker).to_have_value(str(csam_id))
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Report to NCMEC")
    expect(dialog).to_be_visible()
    page.keyboard.press("n")  # inside the dialog the reviewer's keys do nothing
    assert _case_id(page) == ids[1]
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Case 3: no violation. x focuses the button, Enter presses it.
    page.keyboard.press("n")
    assert _reviewing(page) == ids[2]
    reveal(media[2])
    page.keyboard.press("g")  # colour, for the focused file only
    expect(page.locator(f"#media-{media[2]} img.in-colour")).to_be_visible()
    page.keyboard.press("x")
    expect(page.get_by_role("button", name="No violation")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#decision")).to_contain_text("No violation")
    page.keyboard.press("p")  # back to the case before
    assert _case_id(page) == ids[1]

    from console.cases.models import Case
    from console.reporting.models import ExternalReport

    db.session.expire_all()
    assert [db.session.get(Case, i).status for i in ids] == ["violation", "violation", "no_violation"]
    assert db.session.scalar(db.select(db.func.count()).select_from(ExternalReport)) == 0


def test_a_claimed_case_refuses_another_moderators_decision_with_the_claimers_name(
    ctx, page, browser, live_server
):
    factories.user("moderator", email="ann@example.org", name="Ann Claimer")
    factories.user("moderator", email="bob@example.org", name="Bob")
    q = factories.queue("User reports")
    case_id, queue_id = factories.case(q, text="contested").id, q.id
    db.session.rollback()

    other_context, bob = _second_page(browser, live_server)
    try:
        sign_in(bob, "bob@example.org")
        bob.goto(f"/cases/{case_id}")  # Bob has it open, unclaimed, and starts writing a note …
        expect(bob.locator("#claim")).to_contain_text("Nobody is reviewing this case")
        bob.get_by_label("Note (optional)").fill("I think this is fine")
        sign_in(page, "ann@example.org")  # … while Ann starts reviewing the queue and gets it
        page.goto(f"/queues/{queue_id}")
        page.get_by_role("button", name="Start reviewing").click()
        assert _case_id(page) == case_id
        bob.get_by_role("button", name="No violation").click()
        expect(bob.locator("#decision")).to_contain_text("Being reviewed by Ann Claimer since")
        expect(bob.locator("#decision")).to_contain_text("not recorded")
        expect(bob.get_by_label("Note (optional)")).to_have_value("I think this is fine")
        expect(bob.locator("#claim")).to_contain_text("Being reviewed by Ann Claimer")
        expect(bob.locator("#case-status")).to_have_text("Open")
    finally:
        other_context.close()
