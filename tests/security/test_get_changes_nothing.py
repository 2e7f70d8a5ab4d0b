"""A GET changes nothing (second outside sweep: opening a link to `/cases/8?review=1` claimed case 8 as the
page loaded and gave up the moderator's current claim). Claiming is a POST with the CSRF token: "Start
reviewing", "Next case", a queue list's case number, "Review this case"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from console.cases import claims
from console.extensions import db
from tests import factories
from tests.browser.helpers import sign_in


def test_a_link_with_review_1_renders_nothing_that_claims(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    case = factories.case(factories.queue())
    auth.login("m@example.org")
    page = client.get(f"/cases/{case.id}?review=1").text
    assert 'hx-trigger="load' not in page
    assert claims.holder(case.id) is None


def test_a_queue_lists_open_cases_as_buttons_that_post(ctx, client, auth):
    mia = factories.user("moderator", email="m@example.org", name="Mia")
    queue = factories.queue()
    case = factories.case(queue)
    auth.login("m@example.org")
    rows = client.get(f"/queues/{queue.id}").text
    assert f'<form method="post" action="/cases/{case.id}/claim"' in rows and "review=1" not in rows
    opened = auth.post(f"/cases/{case.id}/claim", token_from=f"/queues/{queue.id}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/cases/{case.id}")
    assert claims.holder(case.id).held_by(mia.id)
    # Without the token, nothing.
    other = factories.case(queue)
    assert client.post(f"/cases/{other.id}/claim").status_code == 400
    assert claims.holder(other.id) is None


@pytest.mark.browser
def test_opening_a_link_in_chromium_keeps_the_claim_the_moderator_holds(ctx, page):
    mia = factories.user("moderator", email="m@example.org", name="Mia")
    queue = factories.queue("User reports")
    held = factories.case(queue, text="the case Mia is reviewing", hours_ago=5)
    linked = factories.case(queue, text="the case someone linked", hours_ago=3)
    held_id, linked_id, queue_id, mia_id = held.id, linked.id, queue.id, mia.id
    db.session.rollback()

    sign_in(page, "m@example.org")
    page.goto(f"/queues/{queue_id}")
    page.get_by_role("button", name="Start reviewing").click()  # the oldest case: a POST
    expect(page.get_by_role("heading", name=re.compile(f"Case #{held_id}"))).to_be_visible()
    expect(page.locator('#claim input[name="token"]')).to_have_count(1)

    # In a second tab, a link someone sent (the case page of the first tab stays open, holding its claim).
    other_tab = page.context.new_page()
    other_tab.goto(f"/cases/{linked_id}?review=1")
    expect(other_tab.get_by_role("button", name="Review this case")).to_be_visible()
    other_tab.wait_for_load_state("networkidle")
    db.session.expire_all()
    assert claims.holder(linked_id) is None
    assert claims.holder(held_id).held_by(mia_id)
