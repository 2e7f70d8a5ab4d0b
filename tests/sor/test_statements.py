"""One statement of reasons per decision, built and frozen in the decision's transaction, sent by a real RQ
worker to the stand-in; the cases that need none; a mapping that is not complete yet."""

from __future__ import annotations

from console.dsa import problems
from console.extensions import db
from console.sor import service
from console.sor.models import StatementOfReasons
from tests import factories
from tests.sor.conftest import SPAM_MAPPING, decide_spam, eu_case, setup_world
from tests.sor.helpers import one, run_jobs, statements


def test_a_removed_spam_post_of_an_eu_user_is_stated_once_with_the_decisions_puid(world, standin, app):
    case = eu_case(world)
    outcome = decide_spam(world, case)
    row = one(case.id)
    assert row.puid == f"decision-{outcome.decision.id}"  # stored with the decision, before any attempt
    assert (row.state, row.attempts, row.first_sent_at) == ("pending", 0, None)
    body = row.body
    assert body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert body["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert body["incompatible_content_ground"] == SPAM_MAPPING["clause"]
    assert body["territorial_scope"] == ["FR"]
    assert body["source_type"] == "SOURCE_ARTICLE_16"  # a user's report: a notice under Article 16
    assert (body["automated_detection"], body["automated_decision"]) == (
        "No",
        "AUTOMATED_DECISION_NOT_AUTOMATED",
    )
    assert body["decision_facts"] == SPAM_MAPPING["facts"]  # never the moderator's own note
    assert problems(body) == {}
    run_jobs(app)
    row = one(case.id)
    assert row.state == "submitted" and row.uuid and not row.already_there
    stored = standin.statements(puid=row.puid)
    assert len(stored) == 1 and stored[0]["uuid"] == row.uuid
    run_jobs(app)  # nothing more to do: nothing sent twice
    assert len(standin.statements()) == 1


def test_no_statement_without_a_restriction_of_eu_content(world, standin, app):
    moderator = factories.user()
    us = eu_case(world, 1, country="US")
    decide_spam(world, us, moderator)
    unknown = factories.case(world["queue"])  # no country known
    decide_spam(world, unknown, moderator)
    unticked = eu_case(world, 2)  # the moderator unticked the removal: nothing restricted
    decide_spam(world, unticked, moderator, unticked={world["actions"]["content.remove"].id})
    cleared = eu_case(world, 3)
    from console.cases import service as cases

    cases.decide(cleared.id, "no_violation", None, moderator)
    run_jobs(app)
    assert statements() == [] and standin.statements() == []


def test_the_agency_is_off_until_configured(ctx, standin, app):
    world = setup_world(ctx, standin)
    service.save_agency(enabled=False, environment="sandbox", countries=["FR"], actor=world["admin"])
    decide_spam(world, eu_case(world))
    assert statements() == []


def test_an_incomplete_mapping_holds_the_statement_with_its_reason_until_completed(ctx, standin, app):
    world = setup_world(ctx, standin, mapped=False)
    admin = world["admin"]
    service.save_policy_mapping(world["policies"]["spam"].id, {**SPAM_MAPPING, "facts": ""}, actor=admin)
    case = eu_case(world)
    decide_spam(world, case)
    run_jobs(app)
    row = one(case.id)
    assert row.state == "waiting" and row.body is None
    assert "Spam" in row.waiting_reason and "no decision facts" in row.waiting_reason
    assert standin.statements() == []
    service.save_policy_mapping(world["policies"]["spam"].id, SPAM_MAPPING, actor=admin)
    row = one(case.id)
    assert row.state == "waiting" and "Remove content" in row.waiting_reason  # the action next
    service.save_action_mapping(
        world["actions"]["content.remove"].id,
        {"visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]},
        actor=admin,
    )
    assert one(case.id).state == "pending"
    run_jobs(app)
    row = one(case.id)
    assert row.state == "submitted" and [s["puid"] for s in standin.statements()] == [row.puid]


def test_a_sub_policy_uses_its_parents_mapping_and_an_account_action_its_own(ctx, standin, app):
    world = setup_world(ctx, standin)
    admin = world["admin"]
    service.save_policy_mapping(
        world["policies"]["child-safety"].id,
        {
            "category": "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
            "specifications": ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"],
            "ground": "illegal",
            "legal_ground": "Directive 2011/93/EU",
            "explanation": "Child sexual abuse material is illegal in every member state.",
            "content_types": ["CONTENT_TYPE_IMAGE"],
            "facts": "An image of child sexual abuse was removed and the account terminated.",
        },
        actor=admin,
    )
    case = eu_case(world, 5, country="DE", images=1)
    from console.cases import service as cases

    cases.decide(case.id, "violation", world["policies"]["csam"].id, factories.user())
    db.session.rollback()
    body = one(case.id).body
    assert body["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert body["decision_account"] == "DECISION_ACCOUNT_TERMINATED"
    assert body["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert body["illegal_content_legal_ground"] == "Directive 2011/93/EU"
    run_jobs(app)
    assert one(case.id).state == "submitted"


def test_one_statement_per_decision_is_enforced_by_the_database(world, standin, app):
    import pytest
    from sqlalchemy.exc import IntegrityError

    case = eu_case(world)
    decide_spam(world, case)
    row = one(case.id)
    db.session.add(
        StatementOfReasons(
            decision_id=row.decision_id,
            case_id=row.case_id,
            puid="decision-other",
            environment="sandbox",
            state="pending",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
