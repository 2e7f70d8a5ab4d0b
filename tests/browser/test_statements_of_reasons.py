"""In Chromium: an admin connects the EU DSA Transparency Database (the stand-in, over real HTTP) and maps
spam; a moderator removes a spam post of a French user; a real RQ worker sends the statement; the stand-in's
page shows it under the decision's PUID and the case shows it submitted."""

import pytest
from playwright.sync_api import expect

from console.extensions import db
from tests import factories
from tests.browser.helpers import sign_in
from tests.sor.conftest import TOKEN, setup_world, standin  # noqa: F401 - the fixture
from tests.sor.helpers import one, run_jobs

pytestmark = pytest.mark.browser


def test_an_admin_connects_and_maps_a_moderator_removes_spam_the_statement_is_submitted(ctx, page, standin):  # noqa: F811 - the fixture
    from console import tasks
    from console.sor import service

    tasks.task_queue().empty()
    world = setup_world(ctx, standin, mapped=False)
    # Off until configured: the world's helper connected it; the admin starts from nothing here.
    service.save_agency(enabled=False, environment="sandbox", countries=["FR"], actor=world["admin"])
    from console.sor.models import SorEnvironment

    db.session.query(SorEnvironment).delete()
    db.session.commit()
    factories.user("admin", email="ada@example.org", name="Ada Admin")
    factories.user("moderator", email="mod@example.org", name="Mo Moderator", child_safety=False)
    case = factories.case(
        world["queue"],
        text="Buy followers now!!! cheap cheap cheap",
        content_id="post-eu-1",
        reported_user={
            "platform_id": "u-fr-1",
            "name": "Rémi",
            "details": {"estimated_location": {"country_code": "FR"}},
        },
    )
    case_id, spam, remove = case.id, world["policies"]["spam"].id, world["actions"]["content.remove"].id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "ada@example.org")
    page.goto("/settings/external-reporting")
    agency = page.locator("#dsa-agency")
    expect(agency).to_contain_text("EU DSA Transparency Database")
    expect(agency.locator(".badge").first).to_have_text("off")
    sandbox = agency.locator("#dsa-env-sandbox")
    sandbox.get_by_label("Sandbox base URL").fill(standin.base_url)
    sandbox.get_by_label("Sandbox token").fill(TOKEN)
    sandbox.get_by_role("button", name="Save sandbox connection").click()
    expect(page.locator("#dsa-env-sandbox")).to_contain_text("A token is stored (encrypted)")
    page.locator("#dsa-env-sandbox").get_by_role("button", name="Test sandbox connection").click()
    expect(page.locator("#dsa-env-sandbox")).to_contain_text("answered pong")
    page.get_by_label("EU content: the reported user's country is one of").fill("FR DE")
    page.get_by_label("Enabled").check()
    page.locator("#dsa-agency").get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#dsa-agency .badge").first).to_have_text("on: sandbox")
    expect(page.locator("#dsa-mapping-warning")).to_be_visible()  # nothing mapped yet

    page.locator("#dsa-mapping-warning").get_by_role("link", name="Complete the mapping").click()
    policy = page.locator(f"#policy-{spam}")
    policy.locator("summary").click()
    policy.get_by_label("Category").select_option("STATEMENT_CATEGORY_SCAMS_AND_FRAUD")
    policy.get_by_label("Incompatible with the terms and conditions").check()
    policy.get_by_label("Terms' clause (incompatible with the terms)").fill("Terms of service §4.2 (spam)")
    policy.get_by_label("Explanation").fill("Unsolicited bulk advertising is not allowed.")
    policy.get_by_label("Text", exact=True).check()
    policy.get_by_label("Decision facts (public)").fill("A post advertised followers for sale, in bulk.")
    policy.get_by_role("button", name="Save Spam").click()
    expect(page.locator(f"#policy-{spam} summary")).to_contain_text("Scams and/or fraud")
    action = page.locator(f"#action-{remove}")
    action.get_by_label("Removal of content").check()
    action.get_by_role("button", name="Save Remove content").click()
    expect(page.locator(f"#action-{remove}")).not_to_contain_text("incomplete")

    page.context.clear_cookies()
    sign_in(page, "mod@example.org")
    page.goto(f"/cases/{case_id}")
    with page.expect_response(lambda r: "/platform-actions" in r.url):  # the policy's actions, swapped in
        page.get_by_label("Policy").select_option(str(spam))
    expect(page.locator("#platform-actions")).to_contain_text("Remove content")
    page.get_by_role("button", name="Confirm violation").click()
    expect(page.locator("#decision")).to_contain_text("Violation confirmed")

    run_jobs(ctx)  # a real RQ worker sends the statement to the stand-in
    row = one(case_id)
    puid, uuid, state = row.puid, row.uuid, row.state
    db.session.rollback()  # no transaction held while the live server writes (SQLite)
    assert state == "submitted" and uuid

    page.goto(standin.base_url + "/")
    expect(page.locator("body")).to_contain_text(puid)
    expect(page.get_by_role("link", name=uuid)).to_be_visible()

    page.goto(f"/cases/{case_id}")  # the live server's page, by its base URL
    panel = page.locator("#sor-panel")
    expect(panel.locator("#sor-state")).to_have_text("Submitted")
    expect(panel.locator("#sor-uuid")).to_have_text(uuid)
