"""A moderator's day, in Debian's Chromium: sign in, open a queue and a case, reveal a file, decide."""

import re

import pytest
from playwright.sync_api import expect

from console.extensions import db
from console.media.models import MediaView
from tests import factories
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser


def test_moderator_reviews_a_case_in_the_browser(ctx, page):
    factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    policies = factories.policy_tree()
    q = factories.queue("Trusted flaggers", "trusted_flagger")
    c = factories.case(q, text="flagged by a trusted partner", images=2, policy=policies["csam"])
    first_id, case_id, queue_name, policy_id = c.media[0].id, c.id, q.name, policies["csam"].id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "mod@example.org")
    page.get_by_role("link", name=queue_name).click()
    expect(page.get_by_text("flagged by a trusted partner")).to_be_visible()
    page.get_by_role("button", name=f"#{case_id}").click()
    expect(page.get_by_role("heading", name=re.compile(f"Case #{case_id}"))).to_be_visible()

    # Hidden and blurred by default; the file itself is not loaded until revealed.
    item = page.locator(f"#media-{first_id}")
    expect(item.locator("img.preview")).to_have_css("filter", re.compile("blur"))
    item.get_by_role("button", name=re.compile("Reveal")).click()
    expect(item.get_by_text("Viewed by you")).to_be_visible()
    expect(item.locator("img.grayscale")).to_be_visible()
    assert page.evaluate(f"document.querySelector('#media-{first_id} img').naturalWidth") > 0

    page.get_by_label("Policy").select_option(str(policy_id))
    page.get_by_role("button", name="Confirm violation").click()
    expect(page.locator("#decision")).to_contain_text("Violation confirmed")
    expect(page.locator("#case-status")).to_have_text("Violation confirmed")  # the heading follows
    expect(page.locator("#history")).to_contain_text("case decided")

    db.session.expire_all()
    views = db.session.scalars(db.select(MediaView)).all()
    assert [v.media_id for v in views] == [first_id]
