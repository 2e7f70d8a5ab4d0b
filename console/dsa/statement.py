"""A statement of reasons as the console builds it, and the JSON body the service receives.

``Statement`` holds typed values (enumerations, dates, booleans); ``to_json`` writes the body exactly as the
service would store it: text trimmed and empty text left out (the service does the same before validating),
arrays de-duplicated and sorted, ``category`` removed from ``category_addition``, and every field the service
would drop or null under the statement's own choices left out. So the frozen body the console keeps is the
statement the service keeps, whichever endpoint carries it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .constants import (
    DATE_FORMAT,
    EAN13_KEY,
    NO,
    PUID_PATTERN,
    YES,
    AccountType,
    AutomatedDecision,
    Category,
    CategorySpecification,
    ContentType,
    DecisionAccount,
    DecisionGround,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    SourceType,
)
from .constants import Field as F


@dataclass(frozen=True)
class IllegalContent:
    """The ground "illegal content": the law relied on and why the content breaks it."""

    legal_ground: str
    explanation: str


@dataclass(frozen=True)
class IncompatibleContent:
    """The ground "incompatible with the terms": the clause, why, and (optionally) whether also illegal."""

    clause: str
    explanation: str
    also_illegal: bool | None = None


Ground = IllegalContent | IncompatibleContent


@dataclass(frozen=True)
class Statement:
    """One statement of reasons. Restrictions: at least one of visibility, monetary, provision, account."""

    puid: str
    ground: Ground
    category: Category
    content_types: tuple[ContentType, ...]
    decision_facts: str
    source_type: SourceType
    automated_detection: bool
    automated_decision: AutomatedDecision
    content_date: date
    application_date: date
    territorial_scope: tuple[str, ...]
    visibility: tuple[DecisionVisibility, ...] = ()
    visibility_other: str | None = None
    monetary: DecisionMonetary | None = None
    monetary_other: str | None = None
    provision: DecisionProvision | None = None
    account: DecisionAccount | None = None
    account_type: AccountType | None = None
    end_date_visibility_restriction: date | None = None
    end_date_monetary_restriction: date | None = None
    end_date_service_restriction: date | None = None
    end_date_account_restriction: date | None = None
    content_type_other: str | None = None
    category_addition: tuple[Category, ...] = ()
    category_specification: tuple[CategorySpecification, ...] = ()
    category_specification_other: str | None = None
    content_language: str | None = None
    source_identity: str | None = None
    decision_ground_reference_url: str | None = None
    ean13: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The body of one statement, as the service will store it (see the module's docstring)."""
        body: dict[str, Any] = {}

        def put(field: F, value: Any) -> None:
            if isinstance(value, str):
                value = value.strip() or None
            if value is not None and value != []:
                body[field.value] = value

        put(F.DECISION_VISIBILITY, _sorted_unique(self.visibility))
        if DecisionVisibility.OTHER in self.visibility:
            put(F.DECISION_VISIBILITY_OTHER, self.visibility_other)
        put(F.DECISION_MONETARY, _value(self.monetary))
        if self.monetary == DecisionMonetary.OTHER:
            put(F.DECISION_MONETARY_OTHER, self.monetary_other)
        put(F.DECISION_PROVISION, _value(self.provision))
        put(F.DECISION_ACCOUNT, _value(self.account))
        put(F.ACCOUNT_TYPE, _value(self.account_type))
        if isinstance(self.ground, IllegalContent):
            put(F.DECISION_GROUND, DecisionGround.ILLEGAL_CONTENT.value)
            put(F.ILLEGAL_CONTENT_LEGAL_GROUND, self.ground.legal_ground)
            put(F.ILLEGAL_CONTENT_EXPLANATION, self.ground.explanation)
        else:
            put(F.DECISION_GROUND, DecisionGround.INCOMPATIBLE_CONTENT.value)
            put(F.INCOMPATIBLE_CONTENT_GROUND, self.ground.clause)
            put(F.INCOMPATIBLE_CONTENT_EXPLANATION, self.ground.explanation)
            if self.ground.also_illegal is not None:  # never null: the service refuses an explicit null
                put(F.INCOMPATIBLE_CONTENT_ILLEGAL, YES if self.ground.also_illegal else NO)
        put(F.DECISION_GROUND_REFERENCE_URL, self.decision_ground_reference_url)
        put(F.CONTENT_TYPE, _sorted_unique(self.content_types))
        if ContentType.OTHER in self.content_types:
            put(F.CONTENT_TYPE_OTHER, self.content_type_other)
        put(F.CATEGORY, self.category.value)
        put(F.CATEGORY_ADDITION, _sorted_unique(c for c in self.category_addition if c != self.category))
        put(F.CATEGORY_SPECIFICATION, _sorted_unique(self.category_specification))
        if CategorySpecification.OTHER in self.category_specification:
            put(F.CATEGORY_SPECIFICATION_OTHER, self.category_specification_other)
        put(F.TERRITORIAL_SCOPE, _sorted_unique(self.territorial_scope))
        put(F.CONTENT_LANGUAGE, self.content_language)
        put(F.CONTENT_DATE, _day(self.content_date))
        put(F.APPLICATION_DATE, _day(self.application_date))
        put(F.END_DATE_ACCOUNT_RESTRICTION, _day(self.end_date_account_restriction))
        put(F.END_DATE_MONETARY_RESTRICTION, _day(self.end_date_monetary_restriction))
        put(F.END_DATE_SERVICE_RESTRICTION, _day(self.end_date_service_restriction))
        put(F.END_DATE_VISIBILITY_RESTRICTION, _day(self.end_date_visibility_restriction))
        put(F.DECISION_FACTS, self.decision_facts)
        put(F.SOURCE_TYPE, self.source_type.value)
        if self.source_type != SourceType.VOLUNTARY:
            put(F.SOURCE_IDENTITY, self.source_identity)
        put(F.AUTOMATED_DETECTION, YES if self.automated_detection else NO)
        put(F.AUTOMATED_DECISION, self.automated_decision.value)
        put(F.PUID, self.puid)
        if self.ean13 and self.ean13.strip():
            # Always as a JSON string: the service refuses the 13 digits as a number.
            body[F.CONTENT_ID.value] = {EAN13_KEY: self.ean13.strip()}
        return body


def batch_body(statements: Iterable[Statement | dict[str, Any]]) -> dict[str, Any]:
    """The body of ``POST /api/v1/statements``: ``{"statements": [...]}``."""
    return {"statements": [s.to_json() if isinstance(s, Statement) else s for s in statements]}


def puid_for(decision_id: int | str, prefix: str = "decision") -> str:
    """The PUID of the statement about one decision: derived from the console's immutable decision id.

    The service refuses a PUID for ever once used (even after the statement is archived), so it must never be
    derived from anything that can be reused; the prefix keeps the console's PUIDs apart from any other
    sender's on the same platform account.
    """
    puid = f"{prefix}-{decision_id}"
    if not PUID_PATTERN.fullmatch(puid):
        raise ValueError(f"{puid!r} is not a valid PUID: 1–500 characters of A-Z a-z 0-9 - _")
    return puid


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value if hasattr(member, "value") else member)


def _sorted_unique(values: Iterable[Any]) -> list[str]:
    return sorted({_value(v) for v in values if v is not None})  # type: ignore[type-var]


def _day(value: date | None) -> str | None:
    return None if value is None else value.strftime(DATE_FORMAT)
