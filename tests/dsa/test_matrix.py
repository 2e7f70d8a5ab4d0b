"""Two readings of API.md must agree: every statement the console builds passes the stand-in's validation over
real HTTP, and what either refuses, both refuse, naming the same field.

The matrix covers every pair of values of the decision ground, category, restriction, content type and
source (each value meets every value of the other four at least once); ``-m slow`` crosses them all (17,408
statements). The optional fields turn through their values along the way (specifications, languages, scopes,
automation, end dates, EANs, reference URLs).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from console.dsa import (
    LANGUAGES,
    TERRITORIAL_SCOPE_CODES,
    AccountType,
    AutomatedDecision,
    Category,
    CategorySpecification,
    ContentType,
    DecisionAccount,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    Field,
    IllegalContent,
    IncompatibleContent,
    LocalValidationError,
    SourceType,
    Statement,
    problems,
)
from console.dsa.constants import ENUMERATIONS, MAX_LENGTH
from tests.dsa.conftest import raw_post, statement

GROUNDS = ("illegal", "incompatible")
RESTRICTIONS: list[dict[str, Any]] = [
    *({"visibility": (v,)} for v in DecisionVisibility),
    *({"monetary": m} for m in DecisionMonetary),
    *({"provision": p} for p in DecisionProvision),
    *({"account": a} for a in DecisionAccount),
    {
        "visibility": (DecisionVisibility.CONTENT_REMOVED, DecisionVisibility.OTHER),
        "monetary": DecisionMonetary.OTHER,
        "provision": DecisionProvision.TOTAL_SUSPENSION,
        "account": DecisionAccount.SUSPENDED,
    },
]
SPECIFICATIONS = list(CategorySpecification)
AUTOMATED = list(AutomatedDecision)


def _ground(kind: str, i: int) -> IllegalContent | IncompatibleContent:
    if kind == "illegal":
        return IllegalContent(
            f"Art. {i % 40 + 1} of the national criminal code", "The post breaks that article."
        )
    also_illegal = (None, True, False)[i % 3]
    return IncompatibleContent(
        f"Terms of service §{i % 12 + 1}", "The post breaks that clause.", also_illegal
    )


def built(
    i: int, ground: str, category: Category, restriction: dict, content: ContentType, source: SourceType
):
    """Statement number ``i`` of the matrix: the crossed values, and the optional ones turning with ``i``."""
    applied = date(2024, 1, 1) + timedelta(days=i % 900)
    specification = SPECIFICATIONS[i % len(SPECIFICATIONS)]
    extras: dict[str, Any] = {
        "category_specification": (specification,) if i % 4 else (),
        "content_language": LANGUAGES[i % len(LANGUAGES)] if i % 5 else None,
        "territorial_scope": tuple(
            TERRITORIAL_SCOPE_CODES[j % 30] for j in range(i % 30, i % 30 + 1 + i % 4)
        ),
        "category_addition": (list(Category)[i % 16], category) if i % 6 == 0 else (),
        "account_type": (None, AccountType.BUSINESS, AccountType.PRIVATE)[i % 3],
        "decision_ground_reference_url": f"https://platform.example/terms#s{i}" if i % 7 == 0 else None,
    }
    if specification == CategorySpecification.OTHER:
        extras["category_specification_other"] = "A kind of harm no keyword names."
    if restriction.get("visibility"):
        extras["end_date_visibility_restriction"] = applied + timedelta(days=30) if i % 2 else None
    if restriction.get("account"):
        extras["end_date_account_restriction"] = applied + timedelta(days=7) if i % 3 else None
    if restriction.get("monetary"):
        extras["end_date_monetary_restriction"] = applied if i % 2 else None
    if restriction.get("provision"):
        extras["end_date_service_restriction"] = applied + timedelta(days=365) if i % 2 else None
    return statement(
        puid=f"matrix-{i}",
        ground=_ground(ground, i),
        category=category,
        content_types=(content,),
        content_type_other="A live stream's chat replay." if content == ContentType.OTHER else None,
        ean13=f"{4006381333931 + i % 1000:013d}" if content == ContentType.PRODUCT else None,
        source_type=source,
        source_identity=None if source == SourceType.VOLUNTARY else f"Notifier {i % 50}",
        automated_detection=bool(i % 2),
        automated_decision=AUTOMATED[i % 3],
        content_date=applied - timedelta(days=i % 60),
        application_date=applied,
        visibility_other="Shown only to followers."
        if DecisionVisibility.OTHER in restriction.get("visibility", ())
        else None,
        monetary_other="Payouts held for review."
        if restriction.get("monetary") == DecisionMonetary.OTHER
        else None,
        **{key: value for key, value in restriction.items()},
        **extras,
    )


DIMENSIONS: list[list[Any]] = [
    list(GROUNDS),
    list(Category),
    RESTRICTIONS,
    list(ContentType),
    list(SourceType),
]


def all_pairs(dimensions: list[list[Any]]) -> list[tuple[int, ...]]:
    """Rows of value indexes in which every pair of values of two dimensions appears at least once.

    The two largest dimensions are crossed; each further dimension's value is then chosen row by row to
    cover the most pairs not yet covered, and rows are added for any pair left over.
    """
    order = sorted(range(len(dimensions)), key=lambda d: -len(dimensions[d]))
    first, second = order[:2]
    rows = [
        {first: a, second: b} for a in range(len(dimensions[first])) for b in range(len(dimensions[second]))
    ]
    for position, dim in enumerate(order[2:], start=2):
        earlier = order[:position]
        missing = {
            (e, v, w) for e in earlier for v in range(len(dimensions[e])) for w in range(len(dimensions[dim]))
        }
        for row in rows:
            best = max(
                range(len(dimensions[dim])), key=lambda w: sum((e, row[e], w) in missing for e in earlier)
            )
            row[dim] = best
            missing -= {(e, row[e], best) for e in earlier}
        for e, v, w in sorted(missing):
            rows.append({**rows[0], e: v, dim: w})
    return [tuple(row[d] for d in range(len(dimensions))) for row in rows]


def covered_pairs(rows: list[tuple[int, ...]]) -> set:
    return {(a, row[a], b, row[b]) for row in rows for a in range(len(row)) for b in range(a + 1, len(row))}


@functools.cache
def matrix(full: bool = False) -> tuple[Statement, ...]:
    if full:
        rows = list(itertools.product(*(range(len(d)) for d in DIMENSIONS)))
    else:
        rows = all_pairs(DIMENSIONS)
    return tuple(built(i, *(DIMENSIONS[d][v] for d, v in enumerate(row))) for i, row in enumerate(rows))


def test_the_matrix_meets_every_value_with_every_other():
    rows = all_pairs(DIMENSIONS)
    every_pair = {
        (a, v, b, w)
        for a, b in itertools.combinations(range(len(DIMENSIONS)), 2)
        for v in range(len(DIMENSIONS[a]))
        for w in range(len(DIMENSIONS[b]))
    }

    assert covered_pairs(rows) == every_pair
    assert len(rows) < 400  # against the 17,408 of the full product


def _stored_as_sent(standin, statements) -> None:
    bodies = [s.to_json() for s in statements]
    stored = {row["puid"]: row["statement"] for row in standin.statements()}
    assert len(stored) == len(bodies)
    for body in bodies:
        # What the console keeps as sent is what the service keeps: nothing dropped, nulled or reordered.
        assert {key: stored[body["puid"]][key] for key in body if key != "content_id"} == {
            key: value for key, value in body.items() if key != "content_id"
        }
        if "content_id" in body:
            assert stored[body["puid"]]["content_id_ean"] == body["content_id"]["EAN-13"]


def _send_in_batches(client, statements) -> None:
    assert [s.puid for s in statements if problems(s.to_json())] == []  # the console accepts them all
    for start in range(0, len(statements), 100):
        chunk = statements[start : start + 100]
        receipts = client.submit_batch(chunk)
        assert [r.puid for r in receipts] == [s.puid for s in chunk]


def test_every_statement_the_console_builds_is_stored_by_the_stand_in(client, standin):
    statements = matrix()

    _send_in_batches(client, statements)

    _stored_as_sent(standin, statements)


@pytest.mark.slow
def test_every_combination_the_console_builds_is_stored_by_the_stand_in(client, standin):
    statements = matrix(full=True)
    assert len(statements) == 2 * 16 * 17 * 8 * 4

    _send_in_batches(client, statements)

    _stored_as_sent(standin, statements)


def test_one_of_each_kind_is_stored_through_the_single_endpoint_too(client, standin):
    # One statement per ground, category, restriction, content type and source (not their product).
    statements = matrix()
    picked = {}
    for s in statements:
        body = s.to_json()
        for key in ("decision_ground", "category", "source_type"):
            picked.setdefault((key, body[key]), s)
        picked.setdefault(("content", body["content_type"][0]), s)
        picked.setdefault(
            (
                "restriction",
                tuple(
                    k
                    for k in body
                    if k.startswith("decision_")
                    and k[9:] in ("visibility", "monetary", "provision", "account")
                ),
            ),
            s,
        )
    for s in {id(s): s for s in picked.values()}.values():
        receipt = client.submit(s)
        kept = standin.statements(puid=s.puid)[0]["statement"]
        assert {k: v for k, v in kept.items() if k in s.to_json()} == s.to_json()
        assert receipt.puid == s.puid


BASE = statement(puid="refused-1").to_json()
INCOMPATIBLE = statement(puid="refused-1", ground=IncompatibleContent("Terms §3", "Spam.")).to_json()


def _with(**changes: Any) -> Callable[[dict], dict]:
    return lambda body: {**body, **changes}


def _without(*keys: str) -> Callable[[dict], dict]:
    return lambda body: {k: v for k, v in body.items() if k not in keys}


def _on(base: dict, change: Callable[[dict], dict]) -> Callable[[dict], dict]:
    return lambda _body: change(dict(base))


# (what is wrong, how, the field both must name)
REFUSED: list[tuple[str, Callable[[dict], dict], str]] = [
    *(
        (f"{field} missing", _without(field), field)
        for field in (
            "decision_ground",
            "content_type",
            "category",
            "content_date",
            "application_date",
            "decision_facts",
            "source_type",
            "automated_detection",
            "automated_decision",
            "puid",
        )
    ),
    ("no restriction at all", _without("decision_visibility"), "decision_visibility"),
    ("no restriction at all (monetary named)", _without("decision_visibility"), "decision_monetary"),
    ("content_type empty", _with(content_type=[]), "content_type"),
    ("decision_facts blank", _with(decision_facts="   "), "decision_facts"),
    ("unknown visibility", _with(decision_visibility=["DECISION_VISIBILITY_GONE"]), "decision_visibility"),
    ("unknown monetary", _with(decision_monetary="DECISION_MONETARY_FINE"), "decision_monetary"),
    ("unknown provision", _with(decision_provision="DECISION_PROVISION_SOME"), "decision_provision"),
    ("unknown account decision", _with(decision_account="DECISION_ACCOUNT_DELETED"), "decision_account"),
    ("unknown account type", _with(account_type="ACCOUNT_TYPE_BOT"), "account_type"),
    ("unknown ground", _with(decision_ground="DECISION_GROUND_OTHER"), "decision_ground"),
    ("label instead of name", _with(decision_ground="Illegal Content"), "decision_ground"),
    ("unknown content type", _with(content_type=["CONTENT_TYPE_GAME"]), "content_type"),
    ("unknown category", _with(category="STATEMENT_CATEGORY_SPAM"), "category"),
    ("removed category", _with(category="STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE"), "category"),
    ("unknown added category", _with(category_addition=["STATEMENT_CATEGORY_SPAM"]), "category_addition"),
    ("removed keyword", _with(category_specification=["KEYWORD_DISINFORMATION"]), "category_specification"),
    ("Greece as EL", _with(territorial_scope=["EL"]), "territorial_scope"),
    ("a country outside the EEA", _with(territorial_scope=["DE", "CH"]), "territorial_scope"),
    ("lower-case language", _with(content_language="en"), "content_language"),
    ("unknown language", _with(content_language="XX"), "content_language"),
    ("unknown source", _with(source_type="SOURCE_POLICE"), "source_type"),
    ("lower-case yes", _with(automated_detection="yes"), "automated_detection"),
    ("boolean instead of Yes", _with(automated_detection=True), "automated_detection"),
    ("unknown automation", _with(automated_decision="AUTOMATED_DECISION_YES"), "automated_decision"),
    (
        "visibility other without text",
        _with(decision_visibility=["DECISION_VISIBILITY_OTHER"]),
        "decision_visibility_other",
    ),
    (
        "monetary other without text",
        _with(decision_monetary="DECISION_MONETARY_OTHER"),
        "decision_monetary_other",
    ),
    ("content type other without text", _with(content_type=["CONTENT_TYPE_OTHER"]), "content_type_other"),
    ("illegal without the law", _without("illegal_content_legal_ground"), "illegal_content_legal_ground"),
    ("illegal without explanation", _without("illegal_content_explanation"), "illegal_content_explanation"),
    (
        "incompatible without clause",
        _on(INCOMPATIBLE, _without("incompatible_content_ground")),
        "incompatible_content_ground",
    ),
    (
        "incompatible without explanation",
        _on(INCOMPATIBLE, _without("incompatible_content_explanation")),
        "incompatible_content_explanation",
    ),
    (
        "incompatible, illegal null",
        _on(INCOMPATIBLE, _with(incompatible_content_illegal=None)),
        "incompatible_content_illegal",
    ),
    (
        "incompatible, illegal maybe",
        _on(INCOMPATIBLE, _with(incompatible_content_illegal="Maybe")),
        "incompatible_content_illegal",
    ),
    ("category_addition null", _with(category_addition=None), "category_addition"),
    (
        "visibility other too long",
        _with(decision_visibility=["DECISION_VISIBILITY_OTHER"], decision_visibility_other="x" * 501),
        "decision_visibility_other",
    ),
    (
        "monetary other too long",
        _with(decision_monetary="DECISION_MONETARY_OTHER", decision_monetary_other="x" * 501),
        "decision_monetary_other",
    ),
    ("legal ground too long", _with(illegal_content_legal_ground="x" * 501), "illegal_content_legal_ground"),
    ("explanation too long", _with(illegal_content_explanation="x" * 2001), "illegal_content_explanation"),
    (
        "clause too long",
        _on(INCOMPATIBLE, _with(incompatible_content_ground="x" * 501)),
        "incompatible_content_ground",
    ),
    (
        "incompatible explanation too long",
        _on(INCOMPATIBLE, _with(incompatible_content_explanation="x" * 2001)),
        "incompatible_content_explanation",
    ),
    (
        "content type other too long",
        _with(content_type=["CONTENT_TYPE_OTHER"], content_type_other="x" * 501),
        "content_type_other",
    ),
    (
        "specification other too long",
        _with(category_specification=["KEYWORD_OTHER"], category_specification_other="x" * 501),
        "category_specification_other",
    ),
    (
        "reference URL too long",
        _with(decision_ground_reference_url="https://a.eu/" + "x" * 490),
        "decision_ground_reference_url",
    ),
    (
        "reference not a URL",
        _with(decision_ground_reference_url="see our terms"),
        "decision_ground_reference_url",
    ),
    ("facts too long", _with(decision_facts="x" * 5001), "decision_facts"),
    ("notifier too long", _with(source_identity="x" * 501), "source_identity"),
    ("puid too long", _with(puid="x" * 501), "puid"),
    ("puid with a space", _with(puid="decision 1"), "puid"),
    ("puid with a dot", _with(puid="decision.1"), "puid"),
    ("puid with a slash", _with(puid="decision/1"), "puid"),
    ("puid not ASCII", _with(puid="décision-1"), "puid"),
    ("date without leading zeros", _with(content_date="2026-1-5"), "content_date"),
    ("impossible date", _with(content_date="2026-02-30"), "content_date"),
    ("date with a time", _with(application_date="2026-11-21 10:00:00"), "application_date"),
    ("European date order", _with(application_date="21-11-2026"), "application_date"),
    ("content before 2000", _with(content_date="1999-12-31"), "content_date"),
    ("applied before 2020", _with(application_date="2019-12-31"), "application_date"),
    ("applied after 2038", _with(application_date="2038-01-02"), "application_date"),
    (
        "end date after 2038",
        _with(end_date_visibility_restriction="2038-01-02"),
        "end_date_visibility_restriction",
    ),
    ("end date not a date", _with(end_date_account_restriction="soon"), "end_date_account_restriction"),
    ("EAN as a number", _with(content_id={"EAN-13": 4006381333931}), "content_id.EAN-13"),
    ("EAN of 12 digits", _with(content_id={"EAN-13": "400638133393"}), "content_id.EAN-13"),
    ("EAN empty", _with(content_id={"EAN-13": " "}), "content_id.EAN-13"),
    ("content id not an object", _with(content_id="4006381333931"), "content_id"),
]


@pytest.mark.parametrize(("wrong", "change", "field"), REFUSED, ids=[case[0] for case in REFUSED])
def test_what_one_reading_refuses_the_other_refuses_naming_the_same_field(standin, wrong, change, field):
    body = change(dict(BASE))

    console = problems(body, batch=False)
    single = raw_post(standin, "/api/v1/statement", body)
    batch = raw_post(standin, "/api/v1/statements", {"statements": [body]})

    assert field in console, console
    assert single.status_code == 422 and field in single.json()["errors"], single.text
    assert batch.status_code == 422 and field in batch.json()["errors"]["statement_0"], batch.text
    # Whatever the service refuses, the console refuses before sending.
    assert set(single.json()["errors"]) <= set(console)
    assert standin.statements() == []


# Accepted by the service (its code), refused by the console: the documentation asks for it, or the service
# would silently drop, null or reinterpret what was sent.
STRICTER: list[tuple[str, Callable[[dict], dict], str]] = [
    (
        "no territorial scope (the documentation requires it)",
        _without("territorial_scope"),
        "territorial_scope",
    ),
    (
        "end date before the decision (the documentation)",
        _with(end_date_visibility_restriction="2026-11-01"),
        "end_date_visibility_restriction",
    ),
    ('the literal "null"', _with(decision_monetary="null"), "decision_monetary"),
    ("an object where an array goes", _with(content_type={"a": "CONTENT_TYPE_TEXT"}), "content_type"),
    ("a number as text", _with(decision_facts=12345), "decision_facts"),
    (
        "notifier named for the platform's own initiative",
        _with(source_type="SOURCE_VOLUNTARY", source_identity="Someone"),
        "source_identity",
    ),
    (
        "visibility text without OTHER",
        _with(decision_visibility_other="Hidden."),
        "decision_visibility_other",
    ),
    (
        "specification text without KEYWORD_OTHER",
        _with(category_specification_other="Other harm."),
        "category_specification_other",
    ),
    (
        "also-illegal with the illegal ground",
        _with(incompatible_content_illegal="Yes"),
        "incompatible_content_illegal",
    ),
    ("an unknown key", _with(notes="internal"), "notes"),
    ("an unknown content id", _with(content_id={"ISBN": "123"}), "content_id.ISBN"),
    (
        "an FTP reference",
        _with(decision_ground_reference_url="ftp://files.example/terms"),
        "decision_ground_reference_url",
    ),
]


@pytest.mark.parametrize(("wrong", "change", "field"), STRICTER, ids=[case[0] for case in STRICTER])
def test_the_console_is_stricter_where_api_md_says_build_for_both(standin, wrong, change, field):
    body = change(dict(BASE))

    assert field in problems(body, batch=False)
    assert raw_post(standin, "/api/v1/statement", body).status_code == 201


def test_the_client_refuses_an_invalid_statement_without_sending_it(client, standin):
    bad = dataclasses.replace(statement(), puid="decision 1", decision_facts=" ")

    with pytest.raises(LocalValidationError) as refused:
        client.submit(bad)
    with pytest.raises(LocalValidationError) as refused_batch:
        client.submit_batch([statement("decision-2"), bad])

    assert set(refused.value.errors) == {"puid", "decision_facts"}
    assert set(refused_batch.value.by_index) == {1}
    assert set(refused_batch.value.by_index[1]) == {"puid", "decision_facts"}
    assert "decision facts field is required" in str(refused.value)
    assert standin.stats()["calls"] == {}


# Values a sender might put anywhere: right ones for other fields, blanks, nulls, wrong types, the quirks.
ODD_VALUES: list[Any] = [
    None,
    "",
    " ",
    "null",
    0,
    12345,
    True,
    [],
    {},
    ["null"],
    "x" * 501,
    "x" * 2001,
    "2026-02-30",
    "2026-11-21",
    "1999-01-01",
    "2038-01-02",
    "en",
    "EN",
    "EL",
    "GR",
    ["GR"],
    ["EL"],
    "Yes",
    "No",
    "https://platform.example/terms",
    "not a url",
    {"EAN-13": "4006381333931"},
    {"EAN-13": 4006381333931},
    {"EAN-13": None},
    *(v for values in ENUMERATIONS.values() for v in values[:2]),
    *([v] for values in ENUMERATIONS.values() for v in values[:1]),
]


def _damaged() -> list[dict[str, Any]]:
    """Valid statements, each damaged in one field (every odd value, or the field removed), then in one to
    three fields at random (seeded)."""
    fields = [f.value for f in Field]
    bodies = []
    for field in fields:
        for value in [_REMOVED, *ODD_VALUES]:
            body = dict(BASE)
            if value is _REMOVED:
                body.pop(field, None)
            else:
                body[field] = value
            bodies.append(body)
    chance = random.Random(20261207)
    for case in range(1000):
        body = dict(matrix()[case % len(matrix())].to_json())
        for field in chance.sample(fields, chance.randint(1, 3)):
            if chance.random() < 0.2:
                body.pop(field, None)
            else:
                body[field] = chance.choice(ODD_VALUES)
        bodies.append(body)
    for number, body in enumerate(bodies):
        if isinstance(body.get("puid"), str) and body["puid"].strip() and "puid" not in _changed(body):
            body["puid"] = f"damaged-{number}"  # unique, so that only validation speaks
    return bodies


_REMOVED = object()


def _changed(body: dict[str, Any]) -> set[str]:
    return {key for key in body if body.get(key) != BASE.get(key)} | {key for key in BASE if key not in body}


def test_whatever_the_stand_in_refuses_the_console_refuses_too(standin):
    """The console's reading is never laxer than the service's, field by field."""
    bodies = _damaged()
    disagreements = []
    for start in range(0, len(bodies), 100):
        chunk = bodies[start : start + 100]
        answer = raw_post(standin, "/api/v1/statements", {"statements": chunk})
        assert answer.status_code in (201, 422, 500), answer.text
        refused = answer.json().get("errors", {}) if answer.status_code == 422 else {}
        for index, body in enumerate(chunk):
            theirs = set(refused.get(f"statement_{index}", {}))
            ours = set(problems(body, batch=True))
            if not theirs <= ours:
                disagreements.append((body, theirs - ours))
    assert len(bodies) > 3000 and disagreements == []


@pytest.mark.parametrize("field", sorted(f.value for f in Field if f in MAX_LENGTH))
def test_text_that_is_not_text_never_reaches_the_service(standin, field):
    # The service does not type-check free text: an array there fails at storage with a 500.
    body = {**BASE, field: ["not", "text"]}

    assert field in problems(body)
    assert raw_post(standin, "/api/v1/statement", body).status_code in (422, 500)
