"""The reviewer's pages: the claim on the case page, "Next case", escalation, the reported user's page."""

import re

from console.cases import claims
from console.cases import service as cases
from console.cases.models import Case
from console.extensions import db
from console.queues.models import Queue
from tests import factories

TOKEN = re.compile(r'name="token" value="([0-9a-f]+)"')


def test_start_reviewing_claims_the_oldest_case_and_next_case_moves_on(ctx, client, auth):
    factories.user("moderator", email="m@example.org", name="Mia")
    q = factories.queue()
    first, second = (
        factories.case(q, text="first", hours_ago=9),
        factories.case(q, text="second", hours_ago=2),
    )
    auth.login("m@example.org")
    assert "Start reviewing" in client.get(f"/queues/{q.id}").text
    response = auth.post(f"/queues/{q.id}/next", token_from=f"/queues/{q.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{first.id}")
    page = client.get(f"/cases/{first.id}").text
    assert "You are reviewing this case" in page and 'data-key="next"' in page
    response = auth.post(f"/queues/{q.id}/next", {"after": first.id}, token_from=f"/cases/{first.id}")
    assert response.headers["Location"].endswith(f"/cases/{second.id}?prev={first.id}")
    assert "← Previous case" in client.get(response.headers["Location"]).text
    db.session.expire_all()
    assert db.session.get(Case, second.id).claimed_by.name == "Mia"
    assert db.session.get(Case, first.id).claimed_by_id is None


def test_next_case_in_an_empty_queue_goes_back_to_the_queue(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    q = factories.queue()
    auth.login("m@example.org")
    response = auth.post(f"/queues/{q.id}/next", token_from=f"/queues/{q.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/queues/{q.id}")
    assert "is waiting for a reviewer" in client.get(f"/queues/{q.id}").text


def test_the_page_takes_over_its_claim_renews_it_saves_the_draft_and_gives_it_back(ctx, client, auth):
    mod = factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue())
    auth.login("m@example.org")
    # Opened by a link (any link: the reported user's page, a colleague's message): nothing is claimed
    # until the moderator asks.
    assert 'hx-trigger="submit"' in client.get(f"/cases/{c.id}").text
    held = auth.post(f"/cases/{c.id}/claim", htmx=True, token_from=f"/cases/{c.id}")
    assert "You are reviewing this case" in held.text and "every 60s" in held.text
    token = TOKEN.search(held.text).group(1)
    renewed = auth.post(
        f"/cases/{c.id}/claim/renew",
        {"token": token, "note": "draft so far"},
        htmx=True,
        token_from=f"/cases/{c.id}",
    )
    assert renewed.status_code == 200 and token in renewed.text
    # The page is left (its beacon): the claim goes back, the draft stays and fills the note next time.
    auth.post(
        f"/cases/{c.id}/claim/release", {"token": token, "note": "draft, later"}, token_from=f"/cases/{c.id}"
    )
    assert claims.holder(c.id) is None
    assert "draft, later</textarea>" in client.get(f"/cases/{c.id}").text
    assert mod.id  # the draft is this moderator's own


def test_another_moderators_decision_on_a_claimed_case_is_a_clear_409(ctx, client, auth):
    ann = factories.user("moderator", name="Ann Claimer")
    factories.user("moderator", email="bob@example.org")
    c = factories.case(factories.queue())
    claims.claim(c.id, ann)
    auth.login("bob@example.org")
    page = client.get(f"/cases/{c.id}").text
    assert "Being reviewed by Ann Claimer" in page
    form = {"verdict": "no_violation", "note": "my careful note"}
    response = auth.post(f"/cases/{c.id}/decision", form, token_from=f"/cases/{c.id}")
    assert response.status_code == 409
    assert "Being reviewed by Ann Claimer since" in response.text and "not recorded" in response.text
    assert "my careful note</textarea>" in response.text  # the note is kept
    swapped = auth.post(f"/cases/{c.id}/decision", form, htmx=True, token_from=f"/cases/{c.id}")
    assert swapped.status_code == 200 and "Being reviewed by Ann Claimer" in swapped.text
    db.session.expire_all()
    assert db.session.get(Case, c.id).status == "open"


def test_an_admin_releases_a_claim_a_moderator_cannot(ctx, client, auth):
    ann = factories.user("moderator", name="Ann")
    factories.user("moderator", email="bob@example.org")
    factories.user("admin", email="ada@example.org")
    c = factories.case(factories.queue())
    claims.claim(c.id, ann)
    auth.login("bob@example.org")
    assert "Release their claim" not in client.get(f"/cases/{c.id}").text
    auth.post(f"/cases/{c.id}/claim/release", token_from=f"/cases/{c.id}")
    assert claims.holder(c.id).holder_name == "Ann"
    auth.post("/logout")
    auth.login("ada@example.org")
    assert "Release their claim" in client.get(f"/cases/{c.id}").text
    auth.post(f"/cases/{c.id}/claim/release", token_from=f"/cases/{c.id}")
    assert claims.holder(c.id) is None
    assert "claim released" in client.get(f"/cases/{c.id}").text  # on the case's history


def test_escalating_to_another_queue_moves_the_case_counts_and_history(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    reports, senior = factories.queue("User reports"), factories.queue("Senior review")
    c = factories.case(reports)
    auth.login("m@example.org")
    refused = auth.post(
        f"/cases/{c.id}/escalate", {"to_queue": senior.id, "note": ""}, token_from=f"/cases/{c.id}"
    )
    assert refused.status_code == 422 and "Say why you escalate." in refused.text
    response = auth.post(
        f"/cases/{c.id}/escalate",
        {"to_queue": senior.id, "note": "Needs a second pair of eyes"},
        token_from=f"/cases/{c.id}",
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/queues/{reports.id}")
    db.session.expire_all()
    assert db.session.get(Case, c.id).queue_id == senior.id
    assert (db.session.get(Queue, reports.id).open_cases, db.session.get(Queue, senior.id).open_cases) == (
        0,
        1,
    )
    page = client.get(f"/cases/{c.id}").text
    assert "case escalated" in page and "Needs a second pair of eyes" in page and senior.name in page


def test_escalating_goes_on_to_the_next_case_of_the_queue_claimed(ctx, client, auth):
    me = factories.user("moderator", email="m@example.org")
    reports, senior = factories.queue("User reports"), factories.queue("Senior review")
    first, second = factories.case(reports, hours_ago=5), factories.case(reports, hours_ago=4)
    auth.login("m@example.org")
    response = auth.post(
        f"/cases/{first.id}/escalate",
        {"to_queue": senior.id, "note": "Needs a second pair of eyes"},
        token_from=f"/cases/{first.id}",
    )
    assert response.status_code == 302
    assert f"/cases/{second.id}" in response.headers["Location"]
    assert claims.holder(second.id).holder_id == me.id
    page = client.get(response.headers["Location"]).text
    assert f"Case #{first.id} escalated: {senior.name}." in page


def test_a_case_escalated_to_a_colleague_is_on_their_assigned_list(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    bob = factories.user("moderator", email="bob@example.org", name="Bob Senior")
    q = factories.queue()
    c = factories.case(q, text="tricky one")
    factories.case(q, text="not for bob")
    auth.login("m@example.org")
    auth.post(
        f"/cases/{c.id}/escalate",
        {"to_user": bob.id, "note": "You know this user"},
        token_from=f"/cases/{c.id}",
    )
    auth.post("/logout")
    auth.login("bob@example.org")
    html = client.get("/assigned").text
    assert "tricky one" in html and "not for bob" not in html
    assert "Assigned to Bob Senior" in client.get(f"/cases/{c.id}").text


def test_the_case_shows_its_age_against_the_sla(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    q = factories.queue()
    late, fresh = factories.case(q, hours_ago=30.5), factories.case(q, hours_ago=3.5)
    auth.login("m@example.org")
    assert "Past the 24 h SLA by 6 h" in client.get(f"/cases/{late.id}").text
    assert "20 h left of the 24 h SLA" in client.get(f"/cases/{fresh.id}").text


def test_the_reported_users_page_shows_every_case_across_queues_media_hidden(ctx, client, auth):
    mod = factories.user("moderator", email="m@example.org")
    who = {"platform_id": "p-9", "name": "Rex Repeat", "email": "rex@platform.example"}
    a = factories.case(factories.queue("User reports"), text="first post", reported_user=who, images=1)
    b = factories.case(factories.queue("Proactive", "proactive"), text="second post", reported_user=who)
    factories.case(factories.queue(), text="someone else's")
    cases.decide(a.id, "no_violation", None, mod, "harmless")
    auth.login("m@example.org")
    case_page = client.get(f"/cases/{b.id}").text
    link = f"/reported-users/{a.reported_user_id}"
    assert link in case_page
    html = client.get(link).text
    assert "Rex Repeat" in html and "first post" in html and "second post" in html
    assert "someone else" not in html
    assert html.index("second post") < html.index("first post")  # newest first
    assert 'class="preview"' in html or "Image hidden" in html
    assert f"/media/{a.media[0].id}/file" not in html  # hidden until revealed
    assert "No violation" in html and "harmless" in html
    assert client.get("/reported-users/999999").status_code == 404


def test_the_reported_users_page_is_paged_newest_first(ctx, app, client, auth):
    factories.user("moderator", email="m@example.org")
    who = {"platform_id": "p-many", "name": "Prolific"}
    q = factories.queue()
    made = [factories.case(q, text=f"post number {i:02d}", reported_user=who) for i in range(23)]
    auth.login("m@example.org")
    first = client.get(f"/reported-users/{made[0].reported_user_id}").text
    assert "post number 22" in first and "post number 03" in first and "post number 02" not in first
    older = re.search(r'href="([^"]+before=\d+)"', first).group(1).replace("&amp;", "&")
    second = client.get(older).text
    assert "post number 02" in second and "post number 00" in second and "post number 03" not in second


def test_the_reported_users_page_lists_the_cybertips_filed_for_the_child_safety_team(ctx, client, auth):
    from console.reporting.models import ExternalReport
    from tests.settings.helpers import make_rule

    # CyberTips are child-safety material: the child-safety team sees them (console/childsafety).
    team = factories.user("moderator", email="cs@example.org", child_safety=True)
    factories.user("moderator", email="m@example.org", child_safety=False)
    policies = factories.policy_tree()
    review = factories.queue("AI review", "ai_review")
    make_rule(policies, review)
    who = {"platform_id": "p-tip", "name": "Tipped"}
    c = factories.case(review, ai_policy=policies["csam"], reported_user=who)
    cases.decide(c.id, "violation", policies["csam"].id, team)  # the AI flow: the report is created at once
    report = db.session.scalar(db.select(ExternalReport))
    assert report is not None and report.case_id == c.id
    auth.login("cs@example.org")
    html = client.get(f"/reported-users/{c.reported_user_id}").text
    tips = html.split('id="user-cybertips"')[1]
    assert f"#{c.id}" in tips and report.state_label in tips
    auth.post("/logout")
    auth.login("m@example.org")
    assert 'id="user-cybertips"' not in client.get(f"/reported-users/{c.reported_user_id}").text
