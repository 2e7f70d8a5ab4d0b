"""The queues page's "NCMEC reports required" count leads to the cases that still need their report."""

from __future__ import annotations

import re

from console.extensions import db
from console.reporting import agencies
from console.reporting.models import ReportingRule
from tests import factories


def world():
    """A moderator, the policy tree, an enabled NCMEC rule on Child safety, and a user-reports queue."""
    factories.user("moderator", email="m@example.org", name="Mo Moderator")
    policies = factories.policy_tree()
    review = factories.queue("AI review", "ai_review")
    db.session.add(
        ReportingRule(
            name="NCMEC — CSAM auto report",
            agency_id=agencies.ncmec().id,
            review_queue_id=review.id,
            contact_first_name="Rita",
            contact_last_name="Reporter",
            contact_email="rita@example.org",
            enabled=True,
            policies=[policies["child-safety"]],
        )
    )
    db.session.commit()
    return policies, factories.queue("User reports", "user_report")


def confirm(auth, case_id: int, policy_id: int) -> None:
    response = auth.post(
        f"/cases/{case_id}/decision",
        {"verdict": "violation", "policy": policy_id},
        htmx=True,
        token_from=f"/cases/{case_id}",
    )
    assert response.status_code == 200


def test_the_count_links_to_the_cases_that_need_a_report(ctx, client, auth):
    policies, q = world()
    needs = factories.case(q, text="needs a report", hours_ago=30)
    spam = factories.case(q, text="only spam", hours_ago=20)
    factories.case(q, text="still open", hours_ago=10)
    auth.login("m@example.org")
    assert "NCMEC reports required: 0" in client.get("/queues").text
    assert 'href="/queues/ncmec-required"' not in client.get("/queues").text

    confirm(auth, needs.id, policies["csam"].id)
    confirm(auth, spam.id, policies["spam"].id)  # no rule covers spam: nothing to report

    queues = client.get("/queues").text
    assert re.search(r'<a href="/queues/ncmec-required">NCMEC reports required: 1</a>', queues)
    listed = client.get("/queues/ncmec-required").text
    assert "<h1>NCMEC reports required</h1>" in listed
    assert f'href="/cases/{needs.id}"' in listed and "needs a report" in listed and q.name in listed
    assert "only spam" not in listed and "still open" not in listed


def test_the_list_is_oldest_first_with_keyset_pagination(ctx, app, client, auth):
    app.config["PAGE_SIZE"] = 2
    policies, q = world()
    made = [factories.case(q, text=f"case text {i}", hours_ago=100 - i) for i in range(5)]
    auth.login("m@example.org")
    for c in reversed(made):
        confirm(auth, c.id, policies["grooming"].id)

    first = client.get("/queues/ncmec-required").text
    assert first.index("case text 0") < first.index("case text 1") and "case text 2" not in first
    cursor = first.split("after=")[1].split('"')[0]
    second = client.get(f"/queues/ncmec-required?after={cursor}", headers={"HX-Request": "true"}).text
    assert "<html" not in second  # rows to swap in, not a page
    assert "case text 2" in second and "case text 3" in second and "case text 1" not in second
    cursor = second.split("after=")[1].split('"')[0]
    third = client.get(f"/queues/ncmec-required?after={cursor}").text
    assert "case text 4" in third and "Load more" not in third


def test_a_paused_rule_takes_its_cases_off_the_list_as_off_the_count(ctx, client, auth):
    policies, q = world()
    c = factories.case(q, text="needs a report")
    auth.login("m@example.org")
    confirm(auth, c.id, policies["csam"].id)
    assert "needs a report" in client.get("/queues/ncmec-required").text

    db.session.execute(db.update(ReportingRule).values(enabled=False))
    db.session.commit()
    assert "NCMEC reports required: 0" in client.get("/queues").text
    assert "No NCMEC report is waiting to be filed." in client.get("/queues/ncmec-required").text


def test_only_moderators_see_the_list(ctx, client):
    response = client.get("/queues/ncmec-required")
    assert response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login")
