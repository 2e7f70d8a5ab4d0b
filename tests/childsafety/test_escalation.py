"""A moderator without the permission who finds child-safety material escalates: nothing is filed by them."""

from __future__ import annotations

from sqlalchemy import select

from console.audit import AuditEvent
from console.cases.models import Case, Decision
from console.extensions import db
from console.reporting.models import ExternalReport
from tests import factories
from tests.childsafety.helpers import child_safety_world


def test_choosing_a_child_safety_policy_hands_the_case_to_the_team_with_the_note(ctx, client, auth):
    w = child_safety_world()
    factories.user(email="out@example.org", child_safety=False)
    c = factories.case(w.ordinary, text="looks like spam at first", policy=w.policies["spam"])
    auth.login("out@example.org")
    page = client.get(f"/cases/{c.id}").text
    assert "Grooming → child-safety team" in page and "Spam → child-safety team" not in page

    response = auth.post(
        f"/cases/{c.id}/decision",
        {"verdict": "violation", "policy": w.policies["grooming"].id, "note": "asks a minor for photos"},
        token_from=f"/cases/{c.id}",
    )

    assert response.status_code == 302 and response.headers["Location"] == f"/queues/{w.ordinary.id}"
    assert "went to the child-safety team" in client.get(response.headers["Location"]).text
    db.session.expire_all()
    case = db.session.get(Case, c.id)
    assert (case.queue_id, case.status, case.policy_id) == (
        w.team_queue.id,
        "open",
        w.policies["grooming"].id,
    )
    assert (
        db.session.scalars(select(Decision)).all() == []
        and db.session.scalars(select(ExternalReport)).all() == []
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case_escalated"))
    assert (
        event.details["note"] == "asks a minor for photos" and event.details["to_queue"] == w.team_queue.name
    )
    assert client.get(f"/cases/{c.id}").status_code == 403  # out of their sight now


def test_with_htmx_the_page_goes_back_to_the_queue(ctx, client, auth):
    w = child_safety_world()
    factories.user(email="out@example.org", child_safety=False)
    c = factories.case(w.ordinary)
    auth.login("out@example.org")
    response = auth.post(
        f"/cases/{c.id}/decision",
        {"verdict": "violation", "policy": w.policies["csam"].id},
        htmx=True,
        token_from=f"/cases/{c.id}",
    )
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/queues/{w.ordinary.id}"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case_escalated"))
    assert event.details["note"] == "Child-safety material found (CSAM)."


def test_without_a_child_safety_queue_nothing_moves_and_the_moderator_is_told(ctx, client, auth):
    policies = factories.policy_tree()
    from console.childsafety import service as care

    care.mark_policies({policies["child-safety"].id}, actor_label="test")
    factories.user(email="out@example.org", child_safety=False)
    q = factories.queue()
    c = factories.case(q)
    auth.login("out@example.org")
    response = auth.post(
        f"/cases/{c.id}/decision",
        {"verdict": "violation", "policy": policies["csam"].id},
        token_from=f"/cases/{c.id}",
    )
    assert response.status_code == 409 and "no queue is marked child-safety" in response.text
    db.session.expire_all()
    assert db.session.get(Case, c.id).queue_id == q.id and db.session.get(Case, c.id).policy_id is None
