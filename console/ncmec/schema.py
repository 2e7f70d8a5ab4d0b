"""The XML schema for ``report`` and ``fileDetails``, generated from the element order in constants.py.

The live service publishes its own XSD at ``<base>/xsd``; ours is a stand-in so that our tests and the
simulator reject what the service would reject (above all, elements out of order). ``load_schema`` accepts the
real file, so the simulator can be pointed at it once we have it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from .constants import ENUMERATIONS, FILE_DETAILS, REPORT, TEXT_LIMITS, Element

XS = "http://www.w3.org/2001/XMLSchema"
_XS = f"{{{XS}}}"

# xs:dateTime alone accepts a naive value; the pattern makes the offset mandatory (Z or ±hh:mm).
_DATETIME_WITH_OFFSET = r".+(Z|[+\-]\d{2}:\d{2})"


def _xs(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, _XS + tag, attributes)


def _simple_types(schema: etree._Element) -> None:
    date_time = _xs(schema, "simpleType", name="dateTime")
    _xs(_xs(date_time, "restriction", base="xs:dateTime"), "pattern", value=_DATETIME_WITH_OFFSET)

    for name, limit in TEXT_LIMITS.items():
        restriction = _xs(_xs(schema, "simpleType", name=name), "restriction", base="xs:string")
        if limit is not None:
            _xs(restriction, "maxLength", value=str(limit))
    # escalateToHighPriority is a reason: present means "escalate", so it must say something.
    escalation = schema.find(f"{_XS}simpleType[@name='escalationReason']/{_XS}restriction")
    _xs(escalation, "pattern", value=r"[\s\S]*\S[\s\S]*")

    for name, enum in ENUMERATIONS.items():
        restriction = _xs(_xs(schema, "simpleType", name=name), "restriction", base="xs:string")
        for member in enum:
            _xs(restriction, "enumeration", value=member.value)

    _xs(schema, "complexType", name="flag")  # an empty element; its presence is the value
    extension = _xs(_xs(_xs(schema, "complexType", name="hash"), "simpleContent"), "extension", base="short")
    _xs(extension, "attribute", name="hashType", type="hashType", use="required")


def _element(parent: etree._Element, spec: Element, *, top: bool = False) -> None:
    attributes = {"name": spec.name}
    if not top:
        attributes["minOccurs"] = str(spec.min_occurs)
        attributes["maxOccurs"] = "unbounded" if spec.max_occurs is None else str(spec.max_occurs)
    if spec.children:
        node = _xs(parent, "element", **attributes)
        sequence = _xs(_xs(node, "complexType"), "sequence")
        for child in spec.children:
            _element(sequence, child)
    elif spec.type == "boolean":
        _xs(parent, "element", type="xs:boolean", **attributes)
    else:
        _xs(parent, "element", type=str(spec.type), **attributes)


def _xsd(roots: tuple[Element, ...]) -> bytes:
    schema = etree.Element(_XS + "schema", nsmap={"xs": XS})
    schema.set("elementFormDefault", "qualified")
    _simple_types(schema)
    for root in roots:
        _element(schema, root, top=True)
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@cache
def xsd_bytes() -> bytes:
    """The combined XSD (both root elements), as the service serves it at ``/xsd``."""
    return _xsd((REPORT, FILE_DETAILS))


@cache
def report_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(_xsd((REPORT,))))


@cache
def file_details_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.fromstring(_xsd((FILE_DETAILS,))))


def load_schema(path: str | Path) -> etree.XMLSchema:
    """Load an XSD from disk (e.g. the real one downloaded from ``<base>/xsd``) without network access."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(str(path), parser))


def validation_error(schema: etree.XMLSchema, document: etree._Element | bytes) -> str | None:
    """The first validation message for ``document``, or None when it is valid."""
    if isinstance(document, bytes):
        document = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    if schema.validate(document):
        return None
    error = schema.error_log.last_error
    return f"line {error.line}: {error.message}" if error else "document is not valid"
