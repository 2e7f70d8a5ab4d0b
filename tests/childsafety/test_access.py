"""What is child-safety material (one definition, in Python and in SQL), and who may open it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from console.audit import AuditEvent
from console.cases import service as cases
from console.cases.models import Case
from console.childsafety import access
from console.childsafety import service as care
from console.extensions import db
from console.policies.models import Policy
from tests import factories
from tests.childsafety.helpers import child_safety_world


def test_a_case_is_child_safety_by_its_queue_or_any_policy_it_stands_under(ctx):
    w = child_safety_world()
    later = Policy(slug="csam-live", name="Live streaming", parent=w.policies["csam"])  # added after the mark
    db.session.add(later)
    db.session.commit()
    cases_by_name = {
        "in the marked queue": factories.case(w.team_queue, policy=w.policies["spam"]),
        "alleged CSAM": factories.case(w.ordinary, policy=w.policies["csam"]),
        "AI says grooming": factories.case(w.ordinary, ai_policy=w.policies["grooming"]),
        "a sub-policy made later": factories.case(w.ordinary, policy=later),
        "spam": factories.case(w.ordinary, policy=w.policies["spam"]),
        "no policy at all": factories.case(w.ordinary),
    }
    expected = {name: name not in ("spam", "no policy at all") for name in cases_by_name}

    assert {name: access.is_child_safety(c) for name, c in cases_by_name.items()} == expected
    # The same definition in SQL, for lists: it must agree case by case, and its negation too (NULLs).
    in_sql = set(db.session.scalars(select(Case.id).where(access.child_safety_clause())))
    not_in_sql = set(db.session.scalars(select(Case.id).where(~access.child_safety_clause())))
    assert {name for name, c in cases_by_name.items() if c.id in in_sql} == {
        n for n, v in expected.items() if v
    }
    assert in_sql.isdisjoint(not_in_sql) and len(in_sql | not_in_sql) == len(cases_by_name)


def test_with_nothing_marked_nothing_is_child_safety(ctx):
    policies = factories.policy_tree()
    c = factories.case(factories.queue(), policy=policies["csam"])
    assert not access.is_child_safety(c)
    assert db.session.scalars(select(Case.id).where(~access.child_safety_clause())).all() == [c.id]


def test_only_holders_may_see_a_child_safety_case(ctx):
    w = child_safety_world()
    holder = factories.user()
    outsider = factories.user(child_safety=False)
    cs, spam = factories.case(w.ordinary, policy=w.policies["csam"]), factories.case(w.ordinary)
    assert access.may_see(holder, cs) and access.may_see(holder, spam)
    assert not access.may_see(outsider, cs) and access.may_see(outsider, spam)
    assert not access.may_open_queue(outsider, w.team_queue) and access.may_open_queue(outsider, w.ordinary)


def test_without_the_permission_a_child_safety_file_is_not_revealed_nor_a_violation_confirmed(ctx):
    w = child_safety_world()
    outsider = factories.user(child_safety=False)
    cs = factories.case(w.ordinary, policy=w.policies["csam"], images=1)
    spam = factories.case(w.ordinary, policy=w.policies["spam"])
    with pytest.raises(access.Restricted):
        cases.reveal(cs.media[0].id, cs.id, outsider)
    with pytest.raises(access.Restricted):
        cases.decide(spam.id, "violation", w.policies["grooming"].id, outsider)
    db.session.expire_all()
    assert db.session.get(Case, spam.id).status == "open"
    assert cases.decide(spam.id, "violation", w.policies["spam"].id, outsider).case.status == "violation"


def test_admins_grant_and_revoke_the_permission_and_the_audit_log_says_so(ctx):
    admin = factories.user("admin")
    mod = factories.user(child_safety=False)
    care.set_access(mod.id, True, actor=admin)
    care.set_access(mod.id, True, actor=admin)  # no change, no event
    care.set_access(mod.id, False, actor=admin)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "user")).all()
    assert [(e.action, e.actor_id, e.object_id) for e in events] == [
        ("child_safety_granted", admin.id, str(mod.id)),
        ("child_safety_revoked", admin.id, str(mod.id)),
    ]


def test_marks_are_saved_exactly_and_audited(ctx):
    w = child_safety_world()
    care.mark_queues({w.ordinary.id}, actor_label="admin")
    db.session.expire_all()
    assert access.marks().queue_ids == {w.ordinary.id}
    [event] = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "child_safety_queues_marked")
        .order_by(AuditEvent.id.desc())
    ).all()[:1]
    assert event.details["marked"] == [w.ordinary.name] and event.details["unmarked"] == [w.team_queue.name]
    with pytest.raises(care.CareError):
        care.mark_policies({10**6}, actor_label="admin")
