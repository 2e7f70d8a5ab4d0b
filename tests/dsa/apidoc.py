"""API.md read as data: enumerations, the field table, the PUID, batch and rate rules, the service's words.

Parsed from the markdown (docs/dsa/API.md, the vendored copy of ../shared/dsa/API.md) so that a changed
document fails the contract tests instead of being silently out of step with the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from tests.conftest import ROOT

VENDORED = ROOT / "docs" / "dsa" / "API.md"
SHARED = ROOT.parent / "shared" / "dsa" / "API.md"  # present beside the project's checkouts


@dataclass(frozen=True)
class Enumeration:
    heading: str
    declared: int  # the count the heading states ("— 7 values")
    values: tuple[str, ...]
    labels: dict[str, str]


@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str
    required: str
    limit: str
    allowed: str

    @property
    def max_length(self) -> int | None:
        found = re.search(r"≤ (\d+)(?![\d-])", self.limit)  # not the dates' "≤ 2038-01-01"
        return int(found.group(1)) if found else None

    @property
    def always_required(self) -> bool:
        return self.required.startswith("**required**") and not self.required.startswith("**required** if")

    @property
    def required_when(self) -> bool:
        return self.required.startswith("**required** if")


def text() -> str:
    return VENDORED.read_text(encoding="utf-8")


def _section(title_pattern: str) -> str:
    match = re.search(rf"^#+ {title_pattern}.*?(?=^#+ |\Z)", text(), re.M | re.S)
    assert match, f"no section {title_pattern!r} in API.md"
    return match.group(0)


@cache
def enumerations() -> dict[str, Enumeration]:
    """The tables of §5, keyed by the field the heading names first (``category`` for 5.8)."""
    found = {}
    for block in re.split(r"^#### ", text(), flags=re.M)[1:]:
        heading = block.splitlines()[0]
        rows = re.findall(r"^\| `([A-Z0-9_]+)` \| (.+?) \|$", block, re.M)
        if not rows:
            continue
        declared = re.search(r"— (\d+) values", heading)
        field = re.match(r"[\d.]+ (\w+)", heading).group(1)
        found[field] = Enumeration(
            heading, int(declared.group(1)) if declared else -1, tuple(v for v, _ in rows), dict(rows)
        )
    return found


@cache
def countries() -> tuple[tuple[str, ...], tuple[str, ...], int]:
    """(EU-27, the EEA's others, the count in the heading) from §5.10."""
    block = _section(r"5\.10 territorial_scope")
    declared = int(re.search(r"— (\d+) codes", block).group(1))
    eu = tuple(re.search(r"EU-27: `([A-Z ]+)`", block).group(1).split())
    eea = tuple(re.search(r"plus EEA: `([A-Z ]+)`", block).group(1).split())
    return eu, eea, declared


@cache
def languages() -> tuple[tuple[str, ...], int]:
    block = _section(r"5\.11 content_language")
    declared = int(re.search(r"— (\d+) codes", block).group(1))
    codes = re.search(r"\n`([A-Z \n]+)`", block).group(1).split()
    return tuple(codes), declared


@cache
def yes_no_fields() -> tuple[tuple[str, ...], tuple[str, ...]]:
    block = _section(r"Yes/No fields")
    sentence = re.search(r"^`(\w+)` and `(\w+)` each take exactly `(\w+)` or `(\w+)`", block, re.M)
    return (sentence.group(1), sentence.group(2)), (sentence.group(3), sentence.group(4))


@cache
def removed_values() -> frozenset[str]:
    block = _section(r"Yes/No fields")
    after = block.split("Removed by the July 2025 schema", 1)[1]
    return frozenset(re.findall(r"`([A-Z][A-Z0-9_]+)`", after.split("The model still defines", 1)[0]))


@cache
def fields() -> dict[str, FieldRow]:
    """§4's table: every field with its type, required-ness, limit and allowed values."""
    block = _section(r"4\. The SoR object")
    rows = {}
    for line in block.splitlines():
        match = re.match(r"^\| `(\w+)` \| (.*)\|$", line)
        if match:
            cells = [c.strip() for c in re.split(r" \| ", match.group(2).rstrip(" |"))]
            rows[match.group(1)] = FieldRow(match.group(1), *cells[:4])
    return rows


@cache
def empty_body_errors() -> tuple[str, ...]:
    """§7: the fields an empty ``{}`` body is refused for."""
    block = _section(r"7\. Single create")
    listed = re.search(r"An empty `\{\}` body gives\s+(\d+) errors \((.+?)\)\.", block, re.S)
    names = re.findall(r"`(\w+)`", listed.group(2))
    decisions = ["decision_visibility", "decision_monetary", "decision_provision", "decision_account"]
    expanded = decisions + names if "the 4 decision fields" in listed.group(2) else names
    assert len(expanded) == int(listed.group(1))
    return tuple(expanded)


def date_bounds(field: str) -> tuple[str | None, str]:
    """The earliest and latest date of a date field in §4's table."""
    limit = fields()[field].limit
    if limit == "same":  # the end dates after the first say "same"
        limit = fields()["end_date_account_restriction"].limit
    both = re.search(r"(\d{4}-\d{2}-\d{2}) … (\d{4}-\d{2}-\d{2})", limit)
    if both:
        return both.group(1), both.group(2)
    return None, re.search(r"≤ (\d{4}-\d{2}-\d{2})", limit).group(1)


def puid_rule() -> tuple[int, int, str]:
    """(shortest, longest, the characters) from §6."""
    block = _section(r"6\. PUID rules")
    match = re.search(r"Format: (\d+)–(\d+) characters from `([^`]+)`", block)
    return int(match.group(1)), int(match.group(2)), match.group(3)


def batch_bounds() -> tuple[int, int]:
    block = _section(r"8\. Batch create")
    match = re.search(r"\*\*(\d+) to (\d+)\*\* SoRs", block)
    return int(match.group(1)), int(match.group(2))


def rate_limits() -> tuple[int, int, int]:
    block = _section(r"3\. Rate limits")
    per_second = re.search(r"\*\*(\d+) requests per second\*\*", block).group(1)
    per_minute = re.search(r"\*\*([\d ]+) requests per minute\*\*", block).group(1)
    anonymous = re.search(r"unauthenticated \| (\d+) per minute per IP", block).group(1)
    return int(per_second), int(per_minute.replace(" ", "")), int(anonymous)


def endpoints() -> dict[str, str]:
    """§1's table: "METHOD /path" of each endpoint, keyed by what it does."""
    block = _section(r"1\. Endpoints")
    found = {}
    for what, method, path in re.findall(r"^\| ([^|]+?) \| `(GET|POST) ([^`]+)`", block, re.M):
        found[what] = f"{method} {path}"
    return found


def lock_seconds() -> int:
    return int(
        re.search(r"takes a (\d+)-second lock per \(platform, PUID\)", _section(r"6\. PUID rules")).group(1)
    )
