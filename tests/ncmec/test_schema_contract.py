"""Every enumeration and constant the code knows, checked against NCMEC's XSD (vendored, never edited)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from lxml import etree

from console.ncmec import (
    AddressType,
    AssociatedAccountType,
    DetailsType,
    FileAnnotation,
    FileRelevance,
    IncidentType,
    IndustryClassification,
    IpCaptureEventName,
    ReportAnnotation,
    schema,
)

XS = {"xs": "http://www.w3.org/2001/XMLSchema"}
VENDORED = Path(schema.__file__).parent / "xsd" / "cyber_tipline.xsd"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "ncmec" / "cyber_tipline.xsd"


def test_the_vendored_xsd_is_ncmecs_byte_for_byte():
    readme = (VENDORED.parent / "README.md").read_text()
    assert hashlib.sha256(VENDORED.read_bytes()).hexdigest() in readme
    if SHARED.exists():
        assert VENDORED.read_bytes() == SHARED.read_bytes()
    assert schema.xsd_bytes() == VENDORED.read_bytes()


@pytest.mark.parametrize(
    ("enum", "xsd_type"),
    [
        (IncidentType, "incidentType"),
        (FileRelevance, "fileRelevance"),
        (IndustryClassification, "fileClassification"),
        (IpCaptureEventName, "ipCaptureType"),
        (DetailsType, "metadataTypes"),
        (AddressType, "addressType"),
        (AssociatedAccountType, "associatedAccountType"),
    ],
)
def test_enumerations_match_the_xsd_in_order(enum, xsd_type):
    assert tuple(member.value for member in enum) == schema.enumeration(xsd_type)


@pytest.mark.parametrize(
    ("enum", "xsd_type"), [(ReportAnnotation, "reportAnnotations"), (FileAnnotation, "fileAnnotations")]
)
def test_annotation_flags_match_the_xsd(enum, xsd_type):
    names = schema.xsd_tree().xpath(
        "/xs:schema/xs:complexType[@name=$t]/xs:all/xs:element/@name", namespaces=XS, t=xsd_type
    )
    assert tuple(member.value for member in enum) == tuple(names)


def test_the_schema_declares_the_documents_and_both_replies():
    tops = schema.xsd_tree().xpath("/xs:schema/xs:element/@name", namespaces=XS)
    for name in ("report", "fileDetails", "reportResponse", "reportDoneResponse"):
        assert name in tops


def test_drift_is_silent_for_the_same_schema_and_names_what_changed():
    assert schema.drift(schema.xsd_bytes()).same_bytes
    ours = schema.xsd_bytes()
    reformatted = ours.replace(b"<xs:annotation>", b"<xs:annotation>\n", 1)
    assert not schema.drift(reformatted).structural

    tree = etree.fromstring(ours)
    person = tree.xpath("/xs:schema/xs:complexType[@name='person']/xs:sequence", namespaces=XS)[0]
    extra = etree.SubElement(
        person, "{http://www.w3.org/2001/XMLSchema}element", name="nickname", minOccurs="0"
    )
    extra.set("type", "xs:string")
    gone = tree.xpath("//xs:element[@name='schoolName']", namespaces=XS)[0]
    gone.getparent().remove(gone)
    enum = tree.xpath("/xs:schema/xs:simpleType[@name='ipCaptureType']/xs:restriction", namespaces=XS)[0]
    etree.SubElement(enum, "{http://www.w3.org/2001/XMLSchema}enumeration", value="Logout")

    drift = schema.drift(etree.tostring(tree))
    assert drift.structural
    assert "report/personOrUserReported/personOrUserReportedPerson/nickname" in drift.added
    assert "report/victim/schoolName" in drift.removed
    assert drift.changed == ("ipCaptureType",)
    assert "added: " in drift.summary and "removed: " in drift.summary
