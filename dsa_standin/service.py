"""What the service does with a statement once it passes validation, and the shapes of its answers
(API.md §4 "What the service does to a valid SoR", §7, §8)."""

from __future__ import annotations

from typing import Any

from .rules import BATCH_RULES, RULES, normalise
from .vocabulary import COUNTRIES

ARRAYS = (
    "decision_visibility",
    "content_type",
    "category_addition",
    "category_specification",
    "territorial_scope",
)
DATES = (
    "content_date",
    "application_date",
    "end_date_account_restriction",
    "end_date_monetary_restriction",
    "end_date_service_restriction",
    "end_date_visibility_restriction",
)
# A text field kept only when another field holds a value: (text, other, value, other is an array).
KEPT_ONLY_WHEN = (
    ("decision_visibility_other", "decision_visibility", "DECISION_VISIBILITY_OTHER", True),
    ("decision_monetary_other", "decision_monetary", "DECISION_MONETARY_OTHER", False),
    ("illegal_content_legal_ground", "decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT", False),
    ("illegal_content_explanation", "decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT", False),
    ("incompatible_content_ground", "decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT", False),
    ("incompatible_content_explanation", "decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT", False),
    ("content_type_other", "content_type", "CONTENT_TYPE_OTHER", True),
)
TOP_LEVEL = tuple(field for field in RULES if "." not in field)


def read_body(payload: Any) -> dict[str, Any]:
    """The request's input as the service sees it: normalised, and {} when it is not a JSON object."""
    data = normalise(payload)
    return data if isinstance(data, dict) else {}


def puid_text(value: Any) -> str:
    """A PUID that passed validation may be a JSON number; the service stores its text."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _listed(value: Any) -> list:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def _scope(value: Any) -> list[str]:
    return sorted({code for code in _listed(value) if code in COUNTRIES})


def _text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else ""
    return puid_text(value)


def for_single(data: dict[str, Any], excluded: set) -> dict[str, Any]:
    """The single endpoint's statement as stored (the Sanitizer)."""
    stored = {field: data[field] for field in TOP_LEVEL if field in data and field not in excluded}
    for text, other, wanted, is_array in KEPT_ONLY_WHEN:
        holds = wanted in _listed(stored.get(other)) if is_array else stored.get(other) == wanted
        if not holds:
            stored.pop(text, None)
    if stored.get("source_type") == "SOURCE_VOLUNTARY":
        stored.pop("source_identity", None)
    for field in ("content_type", "decision_visibility", "category_specification"):
        if field in stored and stored[field] is not None:
            stored[field] = sorted(set(_listed(stored[field])))
    if "category_addition" in stored:
        stored["category_addition"] = [
            c for c in _listed(stored["category_addition"]) if c != stored["category"]
        ]
    stored["territorial_scope"] = _scope(stored.get("territorial_scope"))
    content_id = stored.get("content_id")
    if isinstance(content_id, dict) and content_id.get("EAN-13"):
        stored["content_id_ean"] = content_id["EAN-13"]
    for field in DATES:
        stored.setdefault(field, None)
    for field in stored:
        if field not in ARRAYS and field not in ("content_id",):
            stored[field] = _text(stored[field])
    return stored


def for_batch(data: dict[str, Any], excluded: set) -> dict[str, Any]:
    """One statement of a batch as stored: every field, null or [] when absent; arrays as sent except the
    territorial scope; ``content_id`` replaced by ``content_id_ean``."""
    stored: dict[str, Any] = {}
    for field in BATCH_RULES:
        if "." in field or field == "content_id":
            continue
        value = None if field in excluded else data.get(field)
        if field in ARRAYS:
            stored[field] = _listed(value)
        else:
            stored[field] = _text(value)
    stored["territorial_scope"] = _scope(data.get("territorial_scope"))
    if stored["source_type"] == "SOURCE_VOLUNTARY":
        stored["source_identity"] = None
    if "KEYWORD_OTHER" not in stored["category_specification"]:
        stored["category_specification_other"] = None
    content_id = data.get("content_id")
    stored["content_id_ean"] = content_id.get("EAN-13") if isinstance(content_id, dict) else None
    return stored


def published(stored: dict[str, Any], *, base: str, platform: str, with_id: bool) -> dict[str, Any]:
    """A stored statement as a create answer shows it."""
    answer = {key: value for key, value in stored["statement"].items()}
    answer.update(
        uuid=stored["uuid"],
        created_at=stored["created_at"],
        platform_name=platform,
        puid=stored["puid"],
        permalink=f"{base}/statement/{stored['uuid']}",
        self=f"{base}/api/v1/statement/{stored['uuid']}",
    )
    if with_id:
        answer["id"] = stored["id"]
    return answer


def shown(stored: dict[str, Any], *, base: str) -> dict[str, Any]:
    """``GET /api/v1/statement/{uuid}``: never the puid or the id (hidden fields)."""
    answer = published(stored, base=base, platform=stored["platform"], with_id=False)
    answer.pop("puid", None)
    return answer
