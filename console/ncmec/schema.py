"""NCMEC's XSD (vendored in xsd/) and the checks every document passes before it is sent.

``problems(document)`` returns what is wrong with a ``report`` or ``fileDetails`` document: schema errors from
NCMEC's own XSD, then the field rules NCMEC documents but the XSD does not state (lengths, URLs, a future
incident time). Each problem names the field in words a moderator or admin understands, so the dialog and the
Reports page can say what to fix. ``drift`` compares the vendored XSD with the one a service serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from lxml import etree

from .constants import (
    DESCRIPTION_MAX,
    ESP_SERVICE_MAX,
    NAME_MAX,
    ORIGINAL_FILE_NAME_MAX,
    PHONE_MAX,
    url_problem,
)

XSD_NAME = "cyber_tipline.xsd"
XS = "{http://www.w3.org/2001/XMLSchema}"


def xsd_bytes() -> bytes:
    """NCMEC's schema exactly as vendored (and as the service serves it at ``<base>/xsd``)."""
    return resources.files(__package__).joinpath("xsd", XSD_NAME).read_bytes()


def _parse_xsd(data: bytes) -> etree._Element:
    return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))


@cache
def xsd_tree() -> etree._Element:
    return _parse_xsd(xsd_bytes())


@cache
def schema() -> etree.XMLSchema:
    """The XSD as a validator; it declares report, fileDetails and the two replies as top-level elements."""
    return etree.XMLSchema(xsd_tree())


def enumeration(type_name: str) -> tuple[str, ...]:
    """The values of a named ``xs:simpleType`` enumeration in the XSD (e.g. ``incidentType``)."""
    values = xsd_tree().xpath(
        "/xs:schema/xs:simpleType[@name=$name]/xs:restriction/xs:enumeration/@value",
        namespaces={"xs": XS[1:-1]},
        name=type_name,
    )
    return tuple(str(v) for v in values)


# --- problems, in words -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: str  # the element, as an XPath without the leading slash (report/reporter/reportingPerson/email[1])
    field: str  # the same, in words: "Reporting contact › email"
    message: str  # what is wrong, in words

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


# What each element is called on screen. Unlisted names are split from camelCase.
_LABELS = {
    "report": "",
    "fileDetails": "File",
    "incidentSummary": "Incident",
    "incidentType": "incident type",
    "incidentDateTime": "incident time",
    "incidentDateTimeDescription": "incident time description",
    "escalateToHighPriority": "escalation reason",
    "internetDetails": "Where it happened",
    "webPageIncident": "web page",
    "chatImIncident": "chat",
    "url": "URL",
    "reporter": "Reporter",
    "reportingPerson": "reporting contact",
    "contactPerson": "law-enforcement contact",
    "legalURL": "legal URL",
    "personOrUserReported": "Reported user",
    "personOrUserReportedPerson": "person",
    "espIdentifier": "platform user id",
    "espService": "platform service",
    "screenName": "screen name",
    "displayName": "display name",
    "profileUrl": "profile URL",
    "ipCaptureEvent": "IP event",
    "ipAddress": "IP address",
    "eventName": "event name",
    "dateTime": "time",
    "priorCTReports": "earlier CyberTip",
    "intendedRecipient": "Intended recipient",
    "victim": "Victim",
    "additionalInfo": "additional information",
    "originalFileName": "original file name",
    "fileName": "file name",
    "fileViewedByEsp": "viewed by a person",
    "fileRelevance": "relevance",
    "industryClassification": "industry classification",
    "originalFileHash": "hash",
    "firstName": "first name",
    "lastName": "last name",
    "lawEnforcement": "Law enforcement",
    "officerContact": "officer",
    "deviceId": "device id",
    "idType": "id type",
    "idValue": "id",
    "countryCode": "country",
    "groupIdentifier": "group",
    "thirdPartyUserReported": "on another company's service",
    "allEmailsReported": "all emails reported",
    "uploadedToEspTimestamp": "upload time",
    "locationOfFile": "location",
    "nameValuePair": "detail",
}


def field_label(path: str) -> str:
    """``report/personOrUserReported[1]/ipCaptureEvent[2]/eventName`` → ``Reported user › IP event 2 › event
    name`` (an index shows only when it is above 1)."""
    words = []
    for step in path.strip("/").split("/"):
        match = re.fullmatch(r"([A-Za-z0-9]+)(?:\[(\d+)\])?", step)
        if not match:
            words.append(step)
            continue
        name, index = match.groups()
        label = _LABELS.get(name)
        if label is None:
            label = re.sub(r"(?<=[a-z0-9])([A-Z])", r" \1", name).lower()
        if label == "":
            continue
        if index and int(index) > 1:
            label = f"{label} {index}"
        words.append(label[:1].upper() + label[1:] if not words else label)
    return " › ".join(words) or "Document"


_MESSAGES = (
    (
        re.compile(
            r"\[facet 'enumeration'\] The value '(?P<v>.*)' is not an element of the set \{(?P<s>.*)\}"
        ),
        lambda m: f"“{m['v']}” is not one of {m['s'].replace(chr(39), '')}",
    ),
    (
        re.compile(r"This element is not expected\. Expected is (?:one of )?\( (?P<e>.*) \)"),
        lambda m: f"is in the wrong place (expected here: {', '.join(m['e'].split(', '))})",
    ),
    (re.compile(r"This element is not expected\."), lambda m: "is not allowed here"),
    (
        re.compile(r"Missing child element\(s\)\. Expected is (?:one of )?\( (?P<e>.*) \)"),
        lambda m: f"is missing {m['e']}",
    ),
    (
        re.compile(r"'(?P<v>.*)' is not a valid value of the atomic type 'xs:int'"),
        lambda m: "must be a whole number",
    ),
    (
        re.compile(r"'(?P<v>.*)' is not a valid value of the atomic type 'xs:long'"),
        lambda m: "must be a number",
    ),
    (
        re.compile(r"'(?P<v>.*)' is not a valid value of the atomic type 'xs:dateTime'"),
        lambda m: "must be a date and time",
    ),
    (
        re.compile(r"'(?P<v>.*)' is not a valid value of the atomic type 'xs:date'"),
        lambda m: "must be a date",
    ),
    (
        re.compile(r"'(?P<v>.*)' is not a valid value of the atomic type 'xs:boolean'"),
        lambda m: "must be true or false",
    ),
)


def _explain(message: str) -> str:
    text = re.sub(r"^Element '[^']*'(?:, attribute '[^']*')?: ", "", message.strip())
    for pattern, render in _MESSAGES:
        found = pattern.search(text)
        if found:
            return render(found)
    return text.rstrip(".")


def _xsd_problems(root: etree._Element) -> list[Problem]:
    validator = schema()
    if validator.validate(root):
        return []
    found = []
    for error in validator.error_log:
        path = (error.path or root.tag).lstrip("/")
        found.append(Problem(path, field_label(path), _explain(error.message)))
    return found


# Lengths NCMEC documents per element name (the XSD states none).
_MAX_LENGTH = {
    "firstName": NAME_MAX,
    "lastName": NAME_MAX,
    "displayName": NAME_MAX,
    "screenName": NAME_MAX,
    "phone": PHONE_MAX,
    "espService": ESP_SERVICE_MAX,
    "originalFileName": ORIGINAL_FILE_NAME_MAX,
    "incidentDateTimeDescription": DESCRIPTION_MAX,
    "escalateToHighPriority": DESCRIPTION_MAX,
    "middleName": NAME_MAX,
}
_URL_ELEMENTS = {"url", "profileUrl", "legalURL", "locationOfFile"}


def _rule_problems(root: etree._Element, now: datetime) -> list[Problem]:
    found = []
    tree = root.getroottree()
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        text = node.text or ""
        path = tree.getpath(node).lstrip("/")
        limit = _MAX_LENGTH.get(node.tag)
        if limit is not None and len(text) > limit:
            found.append(Problem(path, field_label(path), f"is longer than {limit} characters ({len(text)})"))
        if node.tag in _URL_ELEMENTS and text:
            why = url_problem(text)
            if why:
                found.append(Problem(path, field_label(path), why))
        if node.tag == "escalateToHighPriority" and not text.strip():
            found.append(Problem(path, field_label(path), "needs a reason"))
        if node.tag == "incidentDateTime" and text:
            try:
                when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue  # the XSD check names it
            if when.tzinfo is not None and when > now:
                found.append(Problem(path, field_label(path), "is in the future"))
    return found


def problems(document: etree._Element | bytes, *, now: datetime | None = None) -> list[Problem]:
    """Everything that would make NCMEC refuse ``document``; empty when it may be sent."""
    if isinstance(document, bytes):
        try:
            document = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as error:
            return [Problem("", "Document", f"is not well-formed XML ({error})")]
    return _xsd_problems(document) + _rule_problems(document, now or datetime.now(UTC))


# --- drift --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    same_bytes: bool
    added: tuple[str, ...]  # element paths the served XSD has and ours lacks
    removed: tuple[str, ...]  # element paths ours has and the served XSD lacks
    changed: tuple[str, ...]  # enumerations whose values differ

    @property
    def structural(self) -> bool:
        """True when elements or enumerations differ (not just documentation or formatting)."""
        return bool(self.added or self.removed or self.changed)

    @property
    def summary(self) -> str:
        if self.same_bytes:
            return "The service's schema is identical to the vendored copy."
        parts = []
        if self.added:
            parts.append("added: " + ", ".join(self.added[:20]) + (" …" if len(self.added) > 20 else ""))
        if self.removed:
            parts.append(
                "removed: " + ", ".join(self.removed[:20]) + (" …" if len(self.removed) > 20 else "")
            )
        if self.changed:
            parts.append("enumerations changed: " + ", ".join(self.changed))
        return "The service's schema differs from the vendored copy" + (
            " — " + "; ".join(parts) if parts else " (documentation or formatting only)."
        )


def _element_paths(tree: etree._Element) -> set[str]:
    """Every element as a path of names from its top-level element, following refs and named types."""
    ns = {"xs": XS[1:-1]}
    tops = {e.get("name"): e for e in tree.xpath("/xs:schema/xs:element", namespaces=ns)}
    types = {t.get("name"): t for t in tree.xpath("/xs:schema/xs:complexType", namespaces=ns)}
    paths: set[str] = set()

    def walk(node: etree._Element, prefix: str, depth: int) -> None:
        if depth > 12:
            return
        for child in node.iter(f"{XS}element"):
            if child is node:
                continue
            # Only the nearest elements: skip ones nested inside another element under `node`.
            parent = child.getparent()
            while parent is not None and parent is not node and parent.tag != f"{XS}element":
                parent = parent.getparent()
            if parent is not node:
                continue
            name = child.get("name") or child.get("ref")
            path = f"{prefix}/{name}"
            paths.add(path)
            target = tops.get(child.get("ref")) if child.get("ref") else child
            if target is not None and target is not child:
                walk(target, path, depth + 1)
            elif child.get("type") in types:
                walk(types[child.get("type")], path, depth + 1)
            else:
                walk(child, path, depth + 1)

    for name, element in tops.items():
        paths.add(name)
        walk(element, name, 0)
    return paths


def _enumerations(tree: etree._Element) -> dict[str, tuple[str, ...]]:
    ns = {"xs": XS[1:-1]}
    return {
        t.get("name"): tuple(t.xpath("xs:restriction/xs:enumeration/@value", namespaces=ns))
        for t in tree.xpath("/xs:schema/xs:simpleType", namespaces=ns)
    }


def drift(served: bytes) -> Drift:
    """How ``served`` (a service's ``<base>/xsd``) differs from the vendored XSD: elements, enumerations."""
    if served == xsd_bytes():
        return Drift(True, (), (), ())
    try:
        theirs = _parse_xsd(served)
    except etree.XMLSyntaxError as error:
        raise ValueError(f"the service's /xsd is not XML: {error}") from None
    if theirs.tag != f"{XS}schema":
        # An error reply or an HTML page is XML with no elements in it: compared, it would say that every
        # element was removed. Not a schema, so nothing can be said about drift.
        name = etree.QName(theirs).localname if isinstance(theirs.tag, str) else "?"
        raise ValueError(f"the service's /xsd is not an XML schema (its root element is <{name[:40]}>)")
    ours_paths, their_paths = _element_paths(xsd_tree()), _element_paths(theirs)
    ours_enums, their_enums = _enumerations(xsd_tree()), _enumerations(theirs)
    changed = tuple(
        sorted(n for n in set(ours_enums) | set(their_enums) if ours_enums.get(n) != their_enums.get(n))
    )
    added = tuple(sorted(their_paths - ours_paths))
    removed = tuple(sorted(ours_paths - their_paths))
    return Drift(False, added, removed, changed)
