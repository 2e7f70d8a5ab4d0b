"""Every rule API.md gives for a statement of reasons, checked before anything is sent.

``problems(body)`` answers in the shape of the service's 422 (``{field: [messages]}``, a nested key as
``content_id.EAN-13``), so the console shows its own refusals and the service's the same way.

Where the service's code and its documentation disagree, the console keeps to both (API.md: "build for both"):
``territorial_scope`` is required (the documentation) and end dates fall on or after ``application_date`` (the
documentation; the code does not check). Where the service would accept something and then quietly drop, null
or reinterpret it, the console refuses to send it: a field outside the condition that keeps it
(``decision_visibility_other`` without ``DECISION_VISIBILITY_OTHER``, ``source_identity`` with
``SOURCE_VOLUNTARY``, ...), an unknown key, the literal string ``"null"``, a JSON object where an array is
expected, a number where text is expected. What the console sends is therefore what the service stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from .constants import (
    ARRAY_FIELDS,
    BATCH_ERROR_PREFIX,
    BATCH_MAX,
    BATCH_MIN,
    CONDITIONAL_TEXT,
    DATE_FIELDS,
    DATE_PATTERN,
    DECISION_FIELDS,
    EAN13_KEY,
    EAN13_PATTERN,
    EARLIEST_DATE,
    END_DATE_FIELDS,
    ENUMERATIONS,
    LATEST_DATE,
    MAX_LENGTH,
    ONLY_WITH,
    PUID_PATTERN,
    REQUIRED_FIELDS,
    SOURCE_IDENTITY_DROPPED_FOR,
    Field,
)
from .constants import Field as F

Problems = dict[str, list[str]]

_KNOWN = {f.value for f in Field}


def problems(body: Any, *, batch: bool = True) -> Problems:
    """What the service (or the console's stricter reading of API.md) would refuse in one statement.

    ``batch``: the statement travels in ``POST /statements``, which has no ``content_id_ean`` input.
    """
    if not isinstance(body, Mapping):
        return {"statement": ["A statement of reasons is a JSON object."]}
    found: Problems = {}
    values = {key: _normalised(value) for key, value in body.items()}

    def add(field: str, message: str) -> None:
        found.setdefault(str(field), []).append(message)

    for key in values:
        if key not in _KNOWN or (batch and key == F.CONTENT_ID_EAN):
            add(key, f"The {_words(key)} field is not part of a statement of reasons and would be ignored.")

    for field in REQUIRED_FIELDS:
        if _missing(values.get(field)):
            add(field, f"The {_words(field)} field is required.")
    if all(_missing(values.get(field)) for field in DECISION_FIELDS):
        for field in DECISION_FIELDS:
            others = " / ".join(_words(f) for f in DECISION_FIELDS if f != field)
            add(field, f"The {_words(field)} field is required when none of {others} are present.")
    if _missing(values.get(F.TERRITORIAL_SCOPE)):
        # Optional in the service's code, required by its documentation: always sent.
        add(F.TERRITORIAL_SCOPE, f"The {_words(F.TERRITORIAL_SCOPE)} field is required.")

    _check_enumerations(values, add)
    _check_text(values, add)
    _check_conditions(values, add)
    _check_dates(values, add)
    _check_identifiers(values, add, batch=batch)
    return found


def batch_problems(statements: Any) -> dict[str, Any]:
    """A batch's problems in the service's shape: ``statements`` for the list, ``statement_<i>`` for one."""
    if not isinstance(statements, Sequence) or isinstance(statements, str | bytes):
        return {"statements": ["The statements field must be an array."]}
    if not BATCH_MIN <= len(statements) <= BATCH_MAX:
        return {"statements": [f"The statements field must have between {BATCH_MIN} and {BATCH_MAX} items."]}
    found: dict[str, Any] = {}
    for index, body in enumerate(statements):
        if wrong := problems(body, batch=True):
            found[f"{BATCH_ERROR_PREFIX}{index}"] = wrong
    puids = [body.get(F.PUID) for body in statements if isinstance(body, Mapping)]
    repeated = sorted({p for p in puids if isinstance(p, str) and puids.count(p) > 1})
    if repeated:
        found["puid"] = [f"These PUIDs are repeated within the batch: {', '.join(repeated)}."]
    return found


def _check_enumerations(values: dict[str, Any], add: Any) -> None:
    for field, allowed in ENUMERATIONS.items():
        value = values.get(field)
        if value is None:
            continue
        if field in ARRAY_FIELDS:
            if not isinstance(value, list):
                add(field, f"The {_words(field)} field must be an array.")
            elif any(not isinstance(v, str) or v not in allowed for v in value):
                add(field, f"The selected {_words(field)} is invalid.")
        elif not isinstance(value, str) or value not in allowed:
            # Also refuses the literal "null" that the service accepts for some of these.
            add(field, f"The selected {_words(field)} is invalid.")
    # Not nullable at the service (an explicit null, or "", is refused): send a value or leave the key out.
    if F.CATEGORY_ADDITION in values and values[F.CATEGORY_ADDITION] is None:
        add(F.CATEGORY_ADDITION, f"The {_words(F.CATEGORY_ADDITION)} field must be an array.")
    if F.INCOMPATIBLE_CONTENT_ILLEGAL in values and values[F.INCOMPATIBLE_CONTENT_ILLEGAL] is None:
        add(
            F.INCOMPATIBLE_CONTENT_ILLEGAL,
            f"The selected {_words(F.INCOMPATIBLE_CONTENT_ILLEGAL)} is invalid.",
        )


def _check_text(values: dict[str, Any], add: Any) -> None:
    for field, limit in MAX_LENGTH.items():
        value = values.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            add(field, f"The {_words(field)} field must be a string.")
        elif len(value) > limit:
            add(field, f"The {_words(field)} field must not be greater than {limit} characters.")
    url = values.get(F.DECISION_GROUND_REFERENCE_URL)
    if isinstance(url, str) and not _is_web_url(url):
        add(
            F.DECISION_GROUND_REFERENCE_URL,
            f"The {_words(F.DECISION_GROUND_REFERENCE_URL)} must be a valid URL.",
        )
    puid = values.get(F.PUID)
    if isinstance(puid, str) and not PUID_PATTERN.fullmatch(puid[: MAX_LENGTH[F.PUID]]):
        add(F.PUID, "The puid format is invalid.")


def _check_conditions(values: dict[str, Any], add: Any) -> None:
    for text, on, value in CONDITIONAL_TEXT:
        asked = _holds(values.get(on), value)
        if asked and _missing(values.get(text)):
            add(text, f"The {_words(text)} field is required when {_words(on)} is {value}.")
        elif not asked and text in values:
            add(text, f"The {_words(text)} field is only kept when {_words(on)} is {value}; leave it out.")
    for field, on, value in ONLY_WITH:
        if field in values and not _holds(values.get(on), value):
            add(field, f"The {_words(field)} field is only kept when {_words(on)} is {value}; leave it out.")
    if F.SOURCE_IDENTITY in values and values.get(F.SOURCE_TYPE) == SOURCE_IDENTITY_DROPPED_FOR:
        dropped = SOURCE_IDENTITY_DROPPED_FOR
        add(
            F.SOURCE_IDENTITY,
            f"The {_words(F.SOURCE_IDENTITY)} field is dropped for {dropped}; leave it out.",
        )


def _check_dates(values: dict[str, Any], add: Any) -> None:
    parsed: dict[str, date] = {}
    for field in DATE_FIELDS:
        value = values.get(field)
        if value is None:
            continue
        day = _day(value)
        if day is None:
            add(field, f"The {_words(field)} does not match the format YYYY-MM-DD.")
            continue
        earliest = EARLIEST_DATE.get(field)
        if earliest and day < earliest:
            add(field, f"The {_words(field)} must be a date after or equal to {earliest.isoformat()}.")
        if day > LATEST_DATE:
            add(field, f"The {_words(field)} must be a date before or equal to {LATEST_DATE.isoformat()}.")
        parsed[field] = day
    applied = parsed.get(F.APPLICATION_DATE)
    for field in END_DATE_FIELDS:
        if applied and field in parsed and parsed[field] < applied:
            # The documentation's rule; the code does not check it, the console does.
            add(field, f"The {_words(field)} must be a date after or equal to the application date.")


def _check_identifiers(values: dict[str, Any], add: Any, *, batch: bool) -> None:
    content_id = values.get(F.CONTENT_ID)
    if content_id is not None:
        if not isinstance(content_id, Mapping):
            add(F.CONTENT_ID, f"The {_words(F.CONTENT_ID)} field must be an array.")
        else:
            for key in content_id:
                if key != EAN13_KEY:
                    add(f"{F.CONTENT_ID}.{key}", f"Only {EAN13_KEY} is a known content id.")
            ean = content_id.get(EAN13_KEY)
            if EAN13_KEY in content_id and not (isinstance(ean, str) and EAN13_PATTERN.fullmatch(ean)):
                add(f"{F.CONTENT_ID}.{EAN13_KEY}", f"The {EAN13_KEY} must be a string of 13 digits.")
    ean = values.get(F.CONTENT_ID_EAN)
    if not batch and ean is not None and not (isinstance(ean, str) and EAN13_PATTERN.fullmatch(ean)):
        add(F.CONTENT_ID_EAN, f"The {_words(F.CONTENT_ID_EAN)} must be a string of 13 digits.")


def _normalised(value: Any) -> Any:
    """What the service validates: every string trimmed and an empty string read as null, nested too."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _normalised(v) for k, v in value.items()}
    return value


def _missing(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _holds(value: Any, wanted: str) -> bool:
    return value == wanted or (isinstance(value, list) and wanted in value)


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)  # the pattern above keeps it to YYYY-MM-DD
    except ValueError:  # 2023-02-30
        return None


def _is_web_url(value: str) -> bool:
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _words(field: str) -> str:
    return str(field).replace("_", " ")
