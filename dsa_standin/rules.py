"""The service's validation, read from API.md §4 and written the way the service writes it: a rule list per
field, checked by a small engine with the framework's semantics and messages.

The framework's semantics that matter (API.md §4, §7):

- Before validating, every string is trimmed and an empty string becomes null, nested values included.
- "Implicit" rules (``required``, ``required_if``, ``required_without_all``) run even when the field is
  absent; the others run only when the field is present. A present null passes them only with ``nullable``:
  so an explicit null fails ``in`` or ``array`` on a field that is not nullable (``category_addition``,
  ``incompatible_content_illegal``).
- ``exclude_unless`` takes the field out of validation and out of the stored statement.
- Every failing rule of a field adds its message; the 422's ``message`` is the first message plus
  " (and N more error[s])".

Nothing here is shared with the console's validator (console/dsa/validation.py): two readings of one
document, compared over HTTP by tests/dsa.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

from .vocabulary import (
    ACCOUNT_TYPE,
    AUTOMATED_DECISION,
    CATEGORY,
    CONTENT_TYPE,
    COUNTRIES,
    DECISION_ACCOUNT,
    DECISION_GROUND,
    DECISION_MONETARY,
    DECISION_PROVISION,
    DECISION_VISIBILITY,
    KEYWORD,
    LANGUAGES,
    NULL_WORD,
    SOURCE_TYPE,
    YES_NO,
)

ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
INCOMPATIBLE = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
DECISIONS = ("decision_visibility", "decision_monetary", "decision_provision", "decision_account")


def _others(field: str) -> str:
    return ",".join(d for d in DECISIONS if d != field)


def _one_of(values: tuple[str, ...], *, null_word: bool = False) -> str:
    return "in:" + ",".join((*values, NULL_WORD) if null_word else values)


def _dates(earliest: str | None, latest: str = "2038-01-01") -> list[str]:
    rules = ["date_format:Y-m-d"]
    if earliest:
        rules.append(f"after_or_equal:{earliest}")
    return [*rules, f"before_or_equal:{latest}"]


# The single endpoint's rules (StatementStoreRequest, as API.md §4 restates them).
RULES: dict[str, list[str]] = {
    "decision_visibility": [
        "array",
        "nullable",
        _one_of(DECISION_VISIBILITY, null_word=True),
        f"required_without_all:{_others('decision_visibility')}",
    ],
    "decision_visibility_other": [
        "contains_required:decision_visibility,DECISION_VISIBILITY_OTHER",
        "max:500",
    ],
    "decision_monetary": [
        "nullable",
        _one_of(DECISION_MONETARY, null_word=True),
        f"required_without_all:{_others('decision_monetary')}",
    ],
    "decision_monetary_other": ["required_if:decision_monetary,DECISION_MONETARY_OTHER", "max:500"],
    "decision_provision": [
        "nullable",
        _one_of(DECISION_PROVISION, null_word=True),
        f"required_without_all:{_others('decision_provision')}",
    ],
    "decision_account": [
        "nullable",
        _one_of(DECISION_ACCOUNT, null_word=True),
        f"required_without_all:{_others('decision_account')}",
    ],
    "account_type": ["nullable", _one_of(ACCOUNT_TYPE, null_word=True)],
    "decision_ground": ["required", _one_of(DECISION_GROUND)],
    "decision_ground_reference_url": ["nullable", "url", "max:500"],
    "illegal_content_legal_ground": [f"required_if:decision_ground,{ILLEGAL}", "max:500"],
    "illegal_content_explanation": [f"required_if:decision_ground,{ILLEGAL}", "max:2000"],
    "incompatible_content_ground": [f"required_if:decision_ground,{INCOMPATIBLE}", "max:500"],
    "incompatible_content_explanation": [f"required_if:decision_ground,{INCOMPATIBLE}", "max:2000"],
    "incompatible_content_illegal": [f"exclude_unless:decision_ground,{INCOMPATIBLE}", _one_of(YES_NO)],
    "content_type": ["required", "array", _one_of(CONTENT_TYPE)],
    "content_type_other": ["contains_required:content_type,CONTENT_TYPE_OTHER", "max:500"],
    "category": ["required", _one_of(CATEGORY)],
    "category_addition": ["array", _one_of(CATEGORY)],
    "category_specification": ["array", "nullable", _one_of(KEYWORD, null_word=True)],
    "category_specification_other": ["max:500"],
    "territorial_scope": ["array", "nullable", _one_of(COUNTRIES)],
    "content_language": ["nullable", _one_of(LANGUAGES)],
    "content_date": ["required", *_dates("2000-01-01")],
    "application_date": ["required", *_dates("2020-01-01")],
    "end_date_account_restriction": ["nullable", *_dates(None)],
    "end_date_monetary_restriction": ["nullable", *_dates(None)],
    "end_date_service_restriction": ["nullable", *_dates(None)],
    "end_date_visibility_restriction": ["nullable", *_dates(None)],
    "decision_facts": ["required", "max:5000"],
    "source_type": ["required", _one_of(SOURCE_TYPE)],
    "source_identity": ["max:500"],
    "automated_detection": ["required", _one_of(YES_NO)],
    "automated_decision": ["required", _one_of(AUTOMATED_DECISION)],
    "puid": ["required", "max:500", "regex:^[a-zA-Z0-9_-]+$"],
    "content_id": ["nullable", "array"],
    "content_id.EAN-13": ["string", "regex:^[0-9]{13}$"],
    "content_id_ean": ["nullable", "regex:^[0-9]{13}$"],
}

# The batch has the same rules per statement, without the content_id_ean input.
BATCH_RULES = {field: rules for field, rules in RULES.items() if field != "content_id_ean"}

# Fields whose rules say nothing of their type: the service stores whatever passes, and an array there
# breaks at storage (a 500).
FREE_TEXT = tuple(field for field, rules in RULES.items() if any(r.startswith("max:") for r in rules))

_IMPLICIT = ("required", "required_if", "required_without_all", "contains_required")


def normalise(value: Any) -> Any:
    """The framework's input middleware: trim every string, turn "" into null, all the way down."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def validate(data: dict[str, Any], rules: dict[str, list[str]] = RULES) -> tuple[dict[str, list[str]], set]:
    """The errors ``{field: [messages]}`` and the fields excluded from the statement."""
    errors: dict[str, list[str]] = {}
    excluded = set()
    for field, field_rules in rules.items():
        value, present = _lookup(data, field)
        for name, parameter in _parsed(tuple(field_rules)):
            if name == "exclude_unless":
                other, wanted = parameter.split(",", 1)
                if _lookup(data, other)[0] != wanted:
                    excluded.add(field)
                    break
                continue
            if name == "nullable":
                continue
            if name not in _IMPLICIT:
                if not present:
                    continue
                if value is None and "nullable" in field_rules:
                    continue
            message = CHECKS[name](value, parameter, data, field)
            if message:
                errors.setdefault(field, []).append(message)
    return errors, excluded


@cache
def _parsed(field_rules: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((name, parameter) for name, _, parameter in (rule.partition(":") for rule in field_rules))


@cache
def _allowed(parameter: str) -> frozenset[str]:
    return frozenset(parameter.split(","))


def summary(errors: dict[str, list[str]]) -> str:
    messages = [m for field_messages in errors.values() for m in field_messages]
    more = len(messages) - 1
    if more <= 0:
        return messages[0]
    return f"{messages[0]} (and {more} more {'error' if more == 1 else 'errors'})"


def _lookup(data: dict[str, Any], field: str) -> tuple[Any, bool]:
    if "." in field:
        head, key = field.split(".", 1)
        inner = data.get(head)
        if isinstance(inner, dict) and key in inner:
            return inner[key], True
        return None, False
    return data.get(field), field in data


def _attribute(field: str) -> str:
    return field.replace("_", " ")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, list | dict) and not value)


def _as_list(value: Any) -> list | None:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):  # a JSON object is an array to the service
        return list(value.values())
    return None


def _required(value: Any, _p: str, _d: dict, field: str) -> str | None:
    return f"The {_attribute(field)} field is required." if _empty(value) else None


def _required_if(value: Any, parameter: str, data: dict, field: str) -> str | None:
    other, wanted = parameter.split(",", 1)
    if data.get(other) == wanted and _empty(value):
        return f"The {_attribute(field)} field is required when {_attribute(other)} is {wanted}."
    return None


def _contains_required(value: Any, parameter: str, data: dict, field: str) -> str | None:
    """required_if for an array: required when the other field's array holds the value."""
    other, wanted = parameter.split(",", 1)
    holder = _as_list(data.get(other)) or []
    if wanted in holder and _empty(value):
        return f"The {_attribute(field)} field is required when {_attribute(other)} is {wanted}."
    return None


def _required_without_all(value: Any, parameter: str, data: dict, field: str) -> str | None:
    others = parameter.split(",")
    if _empty(value) and all(_empty(data.get(o)) for o in others):
        listed = " / ".join(_attribute(o) for o in others)
        return f"The {_attribute(field)} field is required when none of {listed} are present."
    return None


def _array(value: Any, _p: str, _d: dict, field: str) -> str | None:
    return None if _as_list(value) is not None else f"The {_attribute(field)} field must be an array."


def _in(value: Any, parameter: str, _d: dict, field: str) -> str | None:
    allowed = _allowed(parameter)
    items = _as_list(value)
    candidates = items if items is not None else [value]
    if all(isinstance(v, str) and v in allowed for v in candidates):
        return None
    return f"The selected {_attribute(field)} is invalid."


def _max(value: Any, parameter: str, _d: dict, field: str) -> str | None:
    limit = int(parameter)
    items = _as_list(value)
    if items is not None:
        return (
            None
            if len(items) <= limit
            else f"The {_attribute(field)} field must not have more than {limit} items."
        )
    size = len("" if value is None else _text(value))
    return (
        None
        if size <= limit
        else f"The {_attribute(field)} field must not be greater than {limit} characters."
    )


def _regex(value: Any, parameter: str, _d: dict, field: str) -> str | None:
    ok = isinstance(value, str | int | float) and not isinstance(value, bool)
    if ok and re.search(parameter, _text(value)):
        return None
    return f"The {_attribute(field)} format is invalid."


def _string(value: Any, _p: str, _d: dict, field: str) -> str | None:
    return None if isinstance(value, str) else f"The {_attribute(field)} field must be a string."


_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://[^\s/?#@]+(?:@[^\s/?#]+)?(?:[/?#]\S*)?$", re.IGNORECASE)


def _url(value: Any, _p: str, _d: dict, field: str) -> str | None:
    if isinstance(value, str) and _URL.match(value):
        return None
    return f"The {_attribute(field)} field must be a valid URL."


def _parse_day(value: Any) -> date | None:
    return _day(value) if isinstance(value, str) else None


@cache
def _day(value: str) -> date | None:
    """Y-m-d exactly: four digits, two, two, and a day the calendar has (no 2023-02-30)."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return None


def _date_format(value: Any, _p: str, _d: dict, field: str) -> str | None:
    return None if _parse_day(value) else f"The {_attribute(field)} does not match the format YYYY-MM-DD."


def _after_or_equal(value: Any, parameter: str, _d: dict, field: str) -> str | None:
    day = _parse_day(value)
    if day and day >= date.fromisoformat(parameter):
        return None
    return f"The {_attribute(field)} must be a date after or equal to {parameter}."


def _before_or_equal(value: Any, parameter: str, _d: dict, field: str) -> str | None:
    day = _parse_day(value)
    if day and day <= date.fromisoformat(parameter):
        return None
    return f"The {_attribute(field)} must be a date before or equal to {parameter}."


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


CHECKS: dict[str, Callable[[Any, str, dict, str], str | None]] = {
    "required": _required,
    "required_if": _required_if,
    "contains_required": _contains_required,
    "required_without_all": _required_without_all,
    "array": _array,
    "in": _in,
    "max": _max,
    "regex": _regex,
    "string": _string,
    "url": _url,
    "date_format": _date_format,
    "after_or_equal": _after_or_equal,
    "before_or_equal": _before_or_equal,
}
