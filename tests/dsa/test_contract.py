"""Every enumeration, field and rule the console (and the stand-in) knows, checked against API.md itself.

The document is parsed from its markdown: a value added, removed or renamed there fails here first.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime

import pytest

from console.dsa import constants as dsa
from dsa_standin import limits as standin_limits
from dsa_standin import rules as standin_rules
from dsa_standin import store as standin_store
from dsa_standin import vocabulary as standin
from tests.dsa import apidoc

# Each §5 table and the console's enumeration, and the stand-in's list, for the same field.
TABLES = {
    "decision_visibility": (dsa.DecisionVisibility, standin.DECISION_VISIBILITY),
    "decision_monetary": (dsa.DecisionMonetary, standin.DECISION_MONETARY),
    "decision_provision": (dsa.DecisionProvision, standin.DECISION_PROVISION),
    "decision_account": (dsa.DecisionAccount, standin.DECISION_ACCOUNT),
    "account_type": (dsa.AccountType, standin.ACCOUNT_TYPE),
    "decision_ground": (dsa.DecisionGround, standin.DECISION_GROUND),
    "content_type": (dsa.ContentType, standin.CONTENT_TYPE),
    "category": (dsa.Category, standin.CATEGORY),
    "category_specification": (dsa.CategorySpecification, standin.KEYWORD),
    "source_type": (dsa.SourceType, standin.SOURCE_TYPE),
    "automated_decision": (dsa.AutomatedDecision, standin.AUTOMATED_DECISION),
}


def test_the_vendored_document_is_the_shared_one():
    vendored = apidoc.VENDORED.read_bytes()
    assert hashlib.sha256(vendored).hexdigest()  # read, not empty
    if apidoc.SHARED.exists():
        assert vendored == apidoc.SHARED.read_bytes(), "docs/dsa/API.md differs from ../shared/dsa/API.md"


def test_every_table_of_the_document_has_its_enumeration():
    assert set(apidoc.enumerations()) == set(TABLES)


@pytest.mark.parametrize("field", sorted(TABLES))
def test_an_enumeration_holds_the_documents_values_labels_and_count(field):
    table = apidoc.enumerations()[field]
    console_enum, standin_values = TABLES[field]

    assert len(table.values) == table.declared  # the parser read the whole table
    assert tuple(member.value for member in console_enum) == table.values
    assert {member.value: member.label for member in console_enum} == table.labels
    assert standin_values == table.values
    assert dsa.ENUMERATIONS[dsa.Field(field)] == table.values


def test_category_addition_takes_the_categories():
    assert "category_addition" in apidoc.enumerations()["category"].heading
    assert dsa.ENUMERATIONS[dsa.Field.CATEGORY_ADDITION] == apidoc.enumerations()["category"].values


def test_the_territorial_scope_is_the_eu_and_the_eea():
    eu, eea, declared = apidoc.countries()

    assert len(eu) == 27 and len(eu) + len(eea) == declared
    assert tuple(dsa.EU_COUNTRIES) == eu and dsa.EEA_ONLY_COUNTRIES == eea
    assert set(dsa.TERRITORIAL_SCOPE_CODES) == set(eu + eea) == set(standin.COUNTRIES)
    assert "GR" in dsa.EU_COUNTRIES and "EL" not in dsa.TERRITORIAL_SCOPE_CODES


def test_the_languages_are_the_documents_upper_case_codes():
    codes, declared = apidoc.languages()

    assert len(codes) == declared
    assert dsa.LANGUAGES == codes == standin.LANGUAGES
    assert all(code.isupper() for code in codes) and "EL" in codes


def test_the_yes_no_fields_take_the_literal_words():
    fields, words = apidoc.yes_no_fields()

    assert words == dsa.YES_NO == standin.YES_NO
    for field in fields:
        assert dsa.ENUMERATIONS[dsa.Field(field)] == words


def test_values_removed_in_july_2025_are_in_no_list():
    removed = apidoc.removed_values()

    assert removed == dsa.REMOVED_VALUES
    every_value = {v for values in dsa.ENUMERATIONS.values() for v in values}
    assert removed.isdisjoint(every_value)
    assert removed.isdisjoint({v for _, values in TABLES.values() for v in values})


def test_every_field_of_the_document_and_no_other():
    assert [f.value for f in dsa.Field] == list(apidoc.fields())
    assert {f for f in standin_rules.RULES if "." not in f} == set(apidoc.fields())


def test_the_length_limits_are_the_documents():
    documented = {name: row.max_length for name, row in apidoc.fields().items() if row.max_length}

    assert {f.value: limit for f, limit in dsa.MAX_LENGTH.items()} == documented
    for name, limit in documented.items():
        assert f"max:{limit}" in standin_rules.RULES[name]


def test_the_always_required_fields_are_the_documents():
    documented = {name for name, row in apidoc.fields().items() if row.always_required}

    assert {f.value for f in dsa.REQUIRED_FIELDS} == documented
    assert {f for f, rules in standin_rules.RULES.items() if "required" in rules} == documented
    # territorial_scope: optional in the code, required by the documentation: the console always sends it.
    assert "optional in code" in apidoc.fields()["territorial_scope"].required


def test_the_fields_required_under_a_condition_are_the_documents():
    documented = {name for name, row in apidoc.fields().items() if row.required_when}

    assert {text.value for text, _, _ in dsa.CONDITIONAL_TEXT} == documented
    for text, on, value in dsa.CONDITIONAL_TEXT:
        row = apidoc.fields()[text]
        named = value in row.required or value.split("_")[2] in row.required  # "ground = ILLEGAL"
        assert named and (on in row.required or "ground" in row.required), (text, row.required)


def test_the_four_decisions_are_required_together_and_an_empty_body_gets_the_documents_errors():
    from console.dsa import problems

    assert {f.value for f in dsa.DECISION_FIELDS} <= set(apidoc.empty_body_errors())
    # The console adds territorial_scope (documentation) to the service's fourteen (code).
    assert set(problems({})) == set(apidoc.empty_body_errors()) | {"territorial_scope"}
    assert set(standin_rules.validate({})[0]) == set(apidoc.empty_body_errors())


@pytest.mark.parametrize("field", [f.value for f in dsa.DATE_FIELDS])
def test_the_date_bounds_are_the_documents(field):
    earliest, latest = apidoc.date_bounds(field)

    assert date.fromisoformat(latest) == dsa.LATEST_DATE
    console_earliest = dsa.EARLIEST_DATE.get(dsa.Field(field))
    assert (console_earliest.isoformat() if console_earliest else None) == earliest
    assert f"before_or_equal:{latest}" in standin_rules.RULES[field]
    assert (f"after_or_equal:{earliest}" in standin_rules.RULES[field]) == (earliest is not None)
    assert "YYYY-MM-DD" in apidoc.fields()[field].limit or apidoc.fields()[field].limit == "same"


def test_the_puid_rule_is_the_documents():
    shortest, longest, characters = apidoc.puid_rule()

    assert (shortest, longest) == (1, dsa.PUID_MAX_LENGTH)
    assert characters == "a-z A-Z 0-9 - _"
    allowed = "".join(chr(c) for c in range(32, 127) if re.fullmatch(r"[a-zA-Z0-9_-]", chr(c)))
    assert dsa.PUID_PATTERN.fullmatch(allowed) and dsa.PUID_PATTERN.fullmatch("x" * longest)
    for refused in ("a b", "a.b", "a/b", "é", "x" * (longest + 1), ""):
        assert not dsa.PUID_PATTERN.fullmatch(refused)
    assert apidoc.lock_seconds() == dsa.PUID_LOCK_SECONDS == standin_store.LOCK_SECONDS


def test_the_batch_size_and_rate_limits_are_the_documents():
    assert apidoc.batch_bounds() == (dsa.BATCH_MIN, dsa.BATCH_MAX)
    per_second, per_minute, anonymous = apidoc.rate_limits()
    assert (dsa.RATE_PER_SECOND, dsa.RATE_PER_MINUTE, dsa.ANONYMOUS_RATE_PER_MINUTE) == (
        per_second,
        per_minute,
        anonymous,
    )
    assert (standin_limits.PER_SECOND, standin_limits.PER_MINUTE, standin_limits.ANONYMOUS_PER_MINUTE) == (
        per_second,
        per_minute,
        anonymous,
    )


def test_the_token_and_the_answers_dates_have_the_documents_shapes():
    assert "Its shape is `<number>|<random>`" in apidoc.text()
    assert dsa.TOKEN_PATTERN.fullmatch("4711|Xy9fA0b1c2") and not dsa.TOKEN_PATTERN.fullmatch("Xy9fA0b1c2")
    assert "`created_at` as `YYYY-MM-DD HH:MM:SS`" in apidoc.text()
    assert datetime.strptime("2026-11-21 10:04:05", dsa.CREATED_AT_FORMAT)
    assert "Only `YYYY-MM-DD`, with leading zeros" in apidoc.text()
    assert dsa.DATE_FORMAT == "%Y-%m-%d"


def test_the_endpoints_are_the_documents():
    documented = set(apidoc.endpoints().values())

    assert f"POST {dsa.STATEMENT_PATH}" in documented
    assert f"POST {dsa.STATEMENTS_PATH}" in documented
    assert f"GET {dsa.EXISTING_PUID_PATH}" in documented
    assert f"GET {dsa.PING_PATH}" in documented
    assert '`{"you_say":"ping","i_say":"pong"}`' in apidoc.text()
    assert dsa.PING_ANSWER == {"you_say": "ping", "i_say": "pong"}


@pytest.mark.parametrize(
    "words",
    [
        dsa.NOT_UNIQUE_SINGLE,
        dsa.NOT_UNIQUE_BATCH,
        dsa.PUID_FOUND,
        dsa.PUID_NOT_FOUND,
        dsa.UNAUTHENTICATED,
        dsa.UNAUTHORIZED,
        dsa.RATE_LIMITED,
        dsa.EXISTING_PUIDS_KEY,
        dsa.EAN13_KEY,
    ],
)
def test_the_services_words_are_quoted_from_the_document(words):
    assert words in apidoc.text()
