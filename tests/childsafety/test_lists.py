"""Child-safety cases reach nobody without the permission — not by escalation or assignment, not on a list,
not in a count (second outside sweep: a grooming case escalated to a moderator without the permission sat on
their "Assigned to me" with its text, "7 open" was shown above 4 rows, the reported-user page named the
account)."""

from __future__ import annotations

import re

import pytest

from console.cases import claims
from console.cases import service as cases
from console.cases.models import Case
from console.childsafety import access
from console.childsafety import service as care
from console.extensions import db
from tests import factories
from tests.childsafety.helpers import child_safety_world


def test_escalation_offers_and_accepts_only_colleagues_with_the_permission(ctx, client, auth):
    w = child_safety_world()
    factories.user(email="mo@example.org", name="Mo Holder")
    factories.user(email="ann@example.org", name="Ann Holder")
    noor = factories.user(email="noor@example.org", name="Noor Outsider", child_safety=False)
    c = factories.case(w.ordinary, text="adult asks a 13-year-old for photos", policy=w.policies["grooming"])
    auth.login("mo@example.org")
    page = client.get(f"/cases/{c.id}").text
    form = page.split('id="escalate-box"', 1)[1].split("</details>", 1)[0]
    assert "Ann Holder" in form and "Noor Outsider" not in form

    # Posted anyway (an old form, a crafted request): not a choice the form offers, and nothing moves.
    response = auth.post(
        f"/cases/{c.id}/escalate", {"to_user": noor.id, "note": "please look"}, token_from=f"/cases/{c.id}"
    )
    assert response.status_code == 422 and "Not a valid choice" in response.text
    db.session.expire_all()
    assert db.session.get(Case, c.id).assigned_to_id is None

    # The service refuses too, whatever calls it.
    mo = factories.user(email="mo2@example.org")
    with pytest.raises(ValueError, match="child-safety permission"):
        cases.escalate(c.id, actor=mo, note="n", to_user_id=noor.id)


def test_an_ordinary_case_sent_to_a_child_safety_queue_cannot_be_named_to_an_outsider(ctx):
    w = child_safety_world()
    mo = factories.user()
    noor = factories.user(child_safety=False)
    c = factories.case(w.ordinary, policy=w.policies["spam"])
    with pytest.raises(ValueError, match="child-safety permission"):
        cases.escalate(c.id, actor=mo, note="n", to_queue_id=w.team_queue.id, to_user_id=noor.id)
    # Kept in an ordinary queue, it is theirs to see: the assignment goes through.
    assert cases.escalate(c.id, actor=mo, note="n", to_user_id=noor.id).assigned_to_id == noor.id


def test_claims_on_child_safety_material_are_refused_in_the_service(ctx):
    w = child_safety_world()
    holder = factories.user()
    outsider = factories.user("admin", child_safety=False)
    c = factories.case(w.ordinary, policy=w.policies["csam"])
    with pytest.raises(access.Restricted):
        claims.claim(c.id, outsider)
    with pytest.raises(access.Restricted):
        cases.escalate(c.id, actor=outsider, note="n", to_queue_id=w.team_queue.id)
    claims.claim(c.id, holder)
    with pytest.raises(access.Restricted):
        claims.release(c.id, outsider)  # an admin, but not one who may see it
    assert claims.holder(c.id).held_by(holder.id)


def test_the_reported_user_page_shows_only_what_comes_from_cases_they_may_open(ctx, client, auth):
    w = child_safety_world()
    factories.user(email="noor@example.org", child_safety=False)
    only_cs = {"platform_id": "u-9", "name": "Grace Groomer", "email": "g@platform.example"}
    c = factories.case(w.team_queue, text="restricted text", reported_user=only_cs)
    auth.login("noor@example.org")
    refused = client.get(f"/reported-users/{c.reported_user_id}")
    assert refused.status_code == 403
    assert "Grace Groomer" not in refused.text and "g@platform.example" not in refused.text

    # Once a case of theirs is one Noor may open, the account is shown with that case, and only that case.
    factories.case(w.ordinary, text="plain spam", policy=w.policies["spam"], reported_user=only_cs)
    page = client.get(f"/reported-users/{c.reported_user_id}").text
    assert "Grace Groomer" in page and "plain spam" in page and "restricted text" not in page


def test_counts_follow_the_marks_as_soon_as_an_admin_changes_them(ctx, client, auth):
    """Nothing to recount: the hidden cases are counted when the page asks (on the policy columns'
    indexes)."""
    w = child_safety_world()
    factories.user(email="noor@example.org", child_safety=False)
    for policy in ("spam", "harassment", "grooming"):
        factories.case(w.ordinary, text=f"about {policy}", policy=w.policies[policy])
    factories.case(w.ordinary, text="ai says csam", policy=w.policies["spam"], ai_policy=w.policies["csam"])
    auth.login("noor@example.org")

    def shown() -> tuple[int, int]:
        row = re.search(rf'<tr data-queue="{w.ordinary.id}">(.*?)</tr>', client.get("/queues").text, re.S)
        count = int(re.search(r'data-count="open">(\d+)<', row.group(1)).group(1))
        rows = client.get(f"/queues/{w.ordinary.id}").text.count("data-row-link")
        return count, rows

    assert shown() == (2, 2)  # spam and harassment; grooming and the AI's csam are child-safety material
    care.mark_policies({w.policies["child-safety"].id, w.policies["harassment"].id}, actor_label="test")
    assert shown() == (1, 1)
    care.mark_policies(set(), actor_label="test")
    assert shown() == (4, 4)
