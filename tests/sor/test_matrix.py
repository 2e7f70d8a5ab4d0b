"""Every statement the console can build passes the stand-in's own validation: the console's mapping turned
through every category, ground, restriction, content type, source and automation path it offers, each built
by a real decision, then sent without the console's check (the stand-in alone judges)."""

from __future__ import annotations

from console.cases import service as cases
from console.dsa import TransparencyDatabaseClient
from console.dsa.constants import (
    Category,
    CategorySpecification,
    ContentType,
    DecisionAccount,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
)
from console.extensions import db
from console.queues.models import SOURCE_KINDS
from console.sor import service
from tests import factories
from tests.sor.conftest import TOKEN, setup_world
from tests.sor.helpers import one, statements

CATEGORIES, SPECS, TYPES = list(Category), list(CategorySpecification), list(ContentType)
VISIBILITY, ACCOUNTS = list(DecisionVisibility), list(DecisionAccount)
PROVISIONS, MONETARY = list(DecisionProvision), list(DecisionMonetary)
KINDS = list(SOURCE_KINDS)
ROWS = 2 * max(len(CATEGORIES), len(TYPES), len(VISIBILITY))  # every value at least twice, in new company


def _policy_mapping(i: int) -> dict:
    illegal = i % 2 == 0
    spec = SPECS[(i * 7) % len(SPECS)]
    return {
        "category": CATEGORIES[i % len(CATEGORIES)],
        "specifications": [spec, CategorySpecification.OTHER] if i % 3 == 0 else [spec],
        "specification_other": "a keyword of our own" if i % 3 == 0 else "",
        "ground": "illegal" if illegal else "incompatible",
        "legal_ground": "Art. 6 UCPD" if illegal else "",
        "clause": "" if illegal else "Terms §4",
        "explanation": "Why, in a few words. " * (1 + i % 5),
        "content_types": [TYPES[i % len(TYPES)], TYPES[(i * 3 + 1) % len(TYPES)]],
        "content_type_other": "a content kind of our own"
        if ContentType.OTHER in (TYPES[i % len(TYPES)], TYPES[(i * 3 + 1) % len(TYPES)])
        else "",
        "facts": f"Decision {i}: what was decided and on which facts.",
    }


def _action_mapping(i: int) -> dict:
    which = i % 4
    mapping = {}
    if which == 0 or i % 5 == 0:
        mapping["visibility"] = [VISIBILITY[i % len(VISIBILITY)], VISIBILITY[(i + 3) % len(VISIBILITY)]]
        mapping["visibility_other"] = (
            "hidden from search" if DecisionVisibility.OTHER in mapping["visibility"] else ""
        )
    if which == 1:
        mapping["account"] = ACCOUNTS[(i // 4) % len(ACCOUNTS)]
    if which == 2:
        mapping["provision"] = PROVISIONS[(i // 4) % len(PROVISIONS)]
    if which == 3:
        mapping["monetary"] = MONETARY[(i // 4) % len(MONETARY)]
        mapping["monetary_other"] = "ads paused" if mapping["monetary"] == DecisionMonetary.OTHER else ""
    return mapping


def test_every_statement_the_console_builds_is_stored_by_the_stand_in(ctx, standin):
    world = setup_world(ctx, standin)
    admin, spam = world["admin"], world["policies"]["spam"]
    remove = world["actions"]["content.remove"]
    queues = {kind: factories.queue(kind, kind) for kind in KINDS}
    moderator = factories.user()
    bodies = []
    for i in range(ROWS):
        service.save_policy_mapping(spam.id, _policy_mapping(i), actor=admin)
        service.save_action_mapping(remove.id, _action_mapping(i), actor=admin)
        kind = KINDS[i % len(KINDS)]
        case = factories.case(
            queues[kind],
            reported_user={
                "platform_id": f"m-{i}",
                "details": {"estimated_location": {"country_code": "FR"}},
            },
            ai_policy=spam if i % 3 == 1 else None,
            hours_ago=24 * (i % 40),
        )
        cases.decide(case.id, "violation", spam.id, moderator)
        db.session.rollback()
        row = one(case.id)
        assert row.state == "pending", (i, row.waiting_reason, row.errors)
        bodies.append(row.body)
    # Frozen when built: the mapping changed after every decision, no body followed it.
    assert [r.body for r in statements()] == bodies
    seen = {
        field: {
            v for b in bodies for v in ([b[field]] if isinstance(b.get(field), str) else b.get(field, []))
        }
        for field in ("category", "content_type", "source_type", "automated_decision", "decision_ground")
    }
    assert seen["category"] == set(CATEGORIES) and seen["content_type"] == set(TYPES)
    assert len(seen["source_type"]) == 4 and len(seen["decision_ground"]) == 2
    assert len(seen["automated_decision"]) == 2  # a person's decision, with or without the machine's proposal
    assert {v for b in bodies for v in b.get("decision_visibility", [])} == set(VISIBILITY)
    assert {b.get("decision_account") for b in bodies} >= set(ACCOUNTS)
    assert {b.get("decision_provision") for b in bodies} >= set(PROVISIONS)
    assert {b.get("decision_monetary") for b in bodies} >= set(MONETARY)
    client = TransparencyDatabaseClient(standin.base_url, TOKEN, check_before_sending=False)
    for start in range(0, len(bodies), 100):
        receipts = client.submit_batch(bodies[start : start + 100])
        assert [r.puid for r in receipts] == [b["puid"] for b in bodies[start : start + 100]]
    stored = {s["puid"]: s for s in standin.statements()}
    assert set(stored) == {b["puid"] for b in bodies}
