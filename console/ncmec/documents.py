"""The two XML documents we send to the CyberTipline: ``report`` and ``fileDetails``.

Plain dataclasses hold the values; the builders walk the element order in constants.py, so the XML always
comes out in the sequence the service's schema demands (a wrong order is a 4100 rejection). Field names are
the snake_case of the element names; a repeated element's field is the plural (``ip_capture_events``) and
takes a sequence.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from lxml import etree

from .constants import (
    ENUMERATIONS,
    FILE_DETAILS,
    REPORT,
    Element,
    FileAnnotation,
    FileRelevance,
    HashType,
    IncidentType,
    IndustryClassification,
    ReportAnnotation,
)


@dataclass(frozen=True)
class IpCaptureEvent:
    ip_address: str
    event_name: str | None = None  # e.g. "Login", "Upload"
    date_time: datetime | None = None
    possible_proxy: bool | None = None


@dataclass(frozen=True)
class IncidentSummary:
    incident_type: IncidentType
    incident_date_time: datetime
    # Why the report is urgent (e.g. a child in imminent danger); None means no escalation.
    escalate_to_high_priority: str | None = None
    report_annotations: Collection[ReportAnnotation] = ()
    incident_date_time_description: str | None = None


@dataclass(frozen=True)
class WebPageIncident:
    urls: Sequence[str]
    additional_info: str | None = None


@dataclass(frozen=True)
class ChatImIncident:
    chat_client: str | None = None
    chat_room_name: str | None = None
    content: str | None = None
    additional_info: str | None = None


@dataclass(frozen=True)
class InternetDetails:
    """One place the incident happened; set exactly one of the incident kinds."""

    web_page_incident: WebPageIncident | None = None
    chat_im_incident: ChatImIncident | None = None

    def __post_init__(self) -> None:
        if (self.web_page_incident is None) == (self.chat_im_incident is None):
            raise ValueError("InternetDetails needs exactly one incident kind")


@dataclass(frozen=True)
class ReportingPerson:
    first_name: str
    last_name: str
    email: str
    phone: str | None = None


@dataclass(frozen=True)
class Reporter:
    reporting_person: ReportingPerson
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None


@dataclass(frozen=True)
class PersonOrUserReportedPerson:
    first_name: str | None = None
    last_name: str | None = None
    emails: Sequence[str] = ()
    display_name: str | None = None


@dataclass(frozen=True)
class PersonOrUserReported:
    person_or_user_reported_person: PersonOrUserReportedPerson | None = None
    esp_identifier: str | None = None  # the platform's own user id
    esp_service: str | None = None
    screen_name: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    ip_capture_events: Sequence[IpCaptureEvent] = ()
    additional_info: str | None = None


@dataclass(frozen=True)
class Report:
    incident_summary: IncidentSummary
    reporter: Reporter
    internet_details: Sequence[InternetDetails] = ()
    persons_or_users_reported: Sequence[PersonOrUserReported] = ()
    additional_info: str | None = None


@dataclass(frozen=True)
class FileHash:
    hash_type: HashType
    value: str


@dataclass(frozen=True)
class FileDetails:
    report_id: str
    file_id: str
    # Legal weight: True only when a person at the company viewed the whole file (API.md). No default.
    file_viewed_by_esp: bool
    file_name: str | None = None
    original_file_name: str | None = None
    uploaded_to_esp_timestamp: datetime | None = None
    location_of_file: str | None = None
    exif_viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    file_relevance: FileRelevance | None = None
    file_annotations: Collection[FileAnnotation] = ()
    industry_classification: IndustryClassification | None = None
    original_file_hashes: Sequence[FileHash] = ()
    ip_capture_events: Sequence[IpCaptureEvent] = ()
    details: str | None = None
    additional_info: str | None = None


# --- building -----------------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all: C0 controls other than tab/newline/return, surrogates (a lone one
# can reach us from badly decoded user content), and U+FFFE/U+FFFF.
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_PLURAL_FIELDS = {
    "personOrUserReported": "persons_or_users_reported",
    "originalFileHash": "original_file_hashes",
    "internetDetails": "internet_details",
}


def xml_safe_text(value: str) -> str:
    """Return ``value`` with the characters XML 1.0 forbids removed.

    Removing them, rather than refusing the document, is deliberate: the report is a legal obligation "as soon
    as reasonably possible", and a stray control character in a user's display name must not hold it up.
    Everything else (``<``, ``&``, quotes, ``]]>``, emoji, right-to-left text) is kept and escaped by lxml.
    """
    return _XML_FORBIDDEN.sub("", value)


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix; a naive datetime is refused: its offset would be a guess."""
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"naive datetime {value.isoformat()} refused: NCMEC needs the offset; attach a timezone"
        )
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_boolean(value: bool) -> str:
    if not isinstance(value, bool):
        raise TypeError(f"expected a bool, got {type(value).__name__}")
    return "true" if value else "false"


def build_report_xml(report: Report) -> bytes:
    """The ``report`` document for ``/submit``, UTF-8 with an XML declaration."""
    return _build(REPORT, report)


def build_file_details_xml(details: FileDetails) -> bytes:
    """The ``fileDetails`` document for ``/fileinfo``, UTF-8 with an XML declaration."""
    return _build(FILE_DETAILS, details)


def _build(spec: Element, value: Any) -> bytes:
    root = etree.Element(spec.name)
    _fill(root, spec, value, spec.name)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _field_name(element: Element) -> str:
    if element.name in _PLURAL_FIELDS:
        return _PLURAL_FIELDS[element.name]
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", element.name).lower()
    return snake + "s" if element.repeated else snake


def _fill(node: etree._Element, spec: Element, value: Any, path: str) -> None:
    if spec.children and all(child.type == "flag" for child in spec.children):
        chosen = {str(getattr(flag, "value", flag)) for flag in value}
        unknown = chosen - {child.name for child in spec.children}
        if unknown:
            raise ValueError(f"{path}: unknown flags {sorted(unknown)}")
        for child in spec.children:
            if child.name in chosen:
                etree.SubElement(node, child.name)
        return
    for child in spec.children:
        child_path = f"{path}/{child.name}"
        raw = getattr(value, _field_name(child))
        if child.repeated:
            items = [raw] if isinstance(raw, str) else list(raw or ())
        else:
            items = [raw]
        items = [item for item in items if not _is_empty(item)]
        if len(items) < child.min_occurs:
            raise ValueError(f"{child_path} is required")
        for item in items:
            sub = etree.SubElement(node, child.name)
            if child.children:
                _fill(sub, child, item, child_path)
                if child.min_occurs == 0 and len(sub) == 0:
                    # An empty optional block would assert, say, a reported person with nothing known.
                    node.remove(sub)
            else:
                _set_simple(sub, child, item, child_path)


def _is_empty(item: Any) -> bool:
    if item is None or (isinstance(item, str) and item == ""):
        return True
    return isinstance(item, Collection) and not isinstance(item, str) and len(item) == 0


def _set_simple(node: etree._Element, spec: Element, value: Any, path: str) -> None:
    kind = spec.type
    if kind == "boolean":
        node.text = format_boolean(value)
    elif kind == "dateTime":
        node.text = format_datetime(value)
    elif kind == "hash":
        node.set("hashType", HashType(value.hash_type).value)
        node.text = xml_safe_text(value.value)
    elif kind in ENUMERATIONS:
        try:
            node.text = ENUMERATIONS[kind](value).value
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
    else:
        if isinstance(value, Enum):
            value = value.value
        if not isinstance(value, str):
            raise TypeError(f"{path}: expected text, got {type(value).__name__}")
        node.text = xml_safe_text(value)


# --- reading ------------------------------------------------------------------------------------------------


def hardened_parser() -> etree.XMLParser:
    """A parser for bytes from the network: no DTDs, no entities, no network access, no huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_untrusted_xml(data: bytes) -> etree._Element:
    """Parse ``data`` safely; raises ``etree.XMLSyntaxError`` (malformed) or ValueError (a DOCTYPE)."""
    root = etree.fromstring(data, hardened_parser())
    if root.getroottree().docinfo.doctype:
        raise ValueError("documents with a DOCTYPE are refused")
    return root
