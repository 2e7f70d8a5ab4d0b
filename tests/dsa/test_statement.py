"""The statement builder writes the body the service will store: nothing it would drop, null or reorder."""

from __future__ import annotations

from datetime import date

import pytest

from console.dsa import (
    Category,
    CategorySpecification,
    ContentType,
    DecisionMonetary,
    DecisionVisibility,
    Field,
    IncompatibleContent,
    SourceType,
    problems,
    puid_for,
)
from tests.dsa.conftest import statement


def test_a_removed_spam_post_becomes_the_documented_body():
    body = statement("decision-41").to_json()

    assert body == {
        "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
        "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
        "illegal_content_legal_ground": "Art. 6 Unfair Commercial Practices Directive",
        "illegal_content_explanation": "Mass unsolicited advertising.",
        "content_type": ["CONTENT_TYPE_TEXT"],
        "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
        "territorial_scope": ["DE", "FR"],
        "content_date": "2026-11-20",
        "application_date": "2026-11-21",
        "decision_facts": "The post advertised a fake prize draw and was removed.",
        "source_type": "SOURCE_ARTICLE_16",
        "automated_detection": "No",
        "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
        "puid": "decision-41",
    }
    assert set(body) <= {f.value for f in Field} and problems(body) == {}


def test_text_that_only_a_choice_asks_for_is_sent_only_with_that_choice():
    without = statement(
        visibility_other="hidden",
        monetary=DecisionMonetary.SUSPENSION,
        monetary_other="held",
        content_type_other="stream",
        category_specification_other="other harm",
        source_type=SourceType.VOLUNTARY,
        source_identity="a notifier",
    ).to_json()
    with_them = statement(
        visibility=(DecisionVisibility.OTHER,),
        visibility_other="hidden",
        monetary=DecisionMonetary.OTHER,
        monetary_other="held",
        content_types=(ContentType.OTHER,),
        content_type_other="stream",
        category_specification=(CategorySpecification.OTHER,),
        category_specification_other="other harm",
        source_identity="a notifier",
    ).to_json()

    dependent = {
        "decision_visibility_other",
        "decision_monetary_other",
        "content_type_other",
        "category_specification_other",
        "source_identity",
    }
    assert dependent.isdisjoint(without) and problems(without) == {}
    assert dependent <= set(with_them) and problems(with_them) == {}


def test_the_incompatible_ground_carries_its_clause_and_says_illegal_only_when_known():
    unknown = statement(ground=IncompatibleContent("Terms §3", "Spam.")).to_json()
    illegal = statement(ground=IncompatibleContent("Terms §3", "Spam.", also_illegal=True)).to_json()
    legal = statement(ground=IncompatibleContent("Terms §3", "Spam.", also_illegal=False)).to_json()

    assert unknown["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert (
        unknown["incompatible_content_ground"] == "Terms §3" and "illegal_content_legal_ground" not in unknown
    )
    assert "incompatible_content_illegal" not in unknown  # never null: the service refuses null
    assert (illegal["incompatible_content_illegal"], legal["incompatible_content_illegal"]) == ("Yes", "No")


def test_arrays_are_unique_and_sorted_and_the_main_category_is_not_repeated():
    body = statement(
        visibility=(
            DecisionVisibility.CONTENT_REMOVED,
            DecisionVisibility.CONTENT_DEMOTED,
            DecisionVisibility.CONTENT_REMOVED,
        ),
        territorial_scope=("FR", "AT", "FR"),
        category_addition=(Category.VIOLENCE, Category.SCAMS_AND_FRAUD),
    ).to_json()

    assert body["decision_visibility"] == [
        "DECISION_VISIBILITY_CONTENT_DEMOTED",
        "DECISION_VISIBILITY_CONTENT_REMOVED",
    ]
    assert body["territorial_scope"] == ["AT", "FR"]
    assert body["category_addition"] == ["STATEMENT_CATEGORY_VIOLENCE"]


def test_text_is_trimmed_blank_text_left_out_and_an_ean_sent_as_a_string():
    body = statement(
        decision_facts="  spaced  ",
        content_language=" ",
        ean13="4006381333931",
        end_date_visibility_restriction=date(2027, 1, 5),
    ).to_json()

    assert body["decision_facts"] == "spaced" and "content_language" not in body
    assert body["content_id"] == {"EAN-13": "4006381333931"}
    assert body["end_date_visibility_restriction"] == "2027-01-05"


def test_a_puid_comes_from_the_decisions_id():
    assert puid_for(1234) == "decision-1234"
    assert puid_for("7f3c", prefix="console-eu") == "console-eu-7f3c"
    with pytest.raises(ValueError, match="not a valid PUID"):
        puid_for("7 3")
    with pytest.raises(ValueError):
        puid_for("x" * 500)
