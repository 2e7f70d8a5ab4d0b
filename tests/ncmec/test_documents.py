"""The report and fileDetails documents, checked against the generated schema."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from console.ncmec import (
    ChatImIncident,
    FileAnnotation,
    FileHash,
    HashType,
    IncidentType,
    IndustryClassification,
    InternetDetails,
    ReportAnnotation,
    build_file_details_xml,
    build_report_xml,
    file_details_schema,
    report_schema,
    validation_error,
    xsd_bytes,
)
from console.ncmec.constants import FILE_DETAILS, REPORT, CodeFamily, classify_code
from console.ncmec.documents import format_datetime, parse_untrusted_xml, xml_safe_text
from tests.ncmec_fixtures import sample_file_details, sample_report

HOSTILE = "<script>&amp; \"quoted\" 'single' ]]> 😀 עברית مرحبا \u202e"


def child_tags(xml: bytes, path: str = ".") -> list[str]:
    return [node.tag for node in etree.fromstring(xml).find(path)]


def test_sample_report_is_valid_and_in_schema_order():
    xml = build_report_xml(sample_report())

    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert validation_error(report_schema(), xml) is None
    assert child_tags(xml) == ["incidentSummary", "internetDetails", "reporter", "personOrUserReported"]
    assert [e.name for e in REPORT.children][:4] == [
        "incidentSummary",
        "internetDetails",
        "reporter",
        "personOrUserReported",
    ]


def test_every_incident_type_is_accepted_and_has_guidance():
    for incident_type in IncidentType:
        xml = build_report_xml(sample_report(incident_type))
        assert validation_error(report_schema(), xml) is None
        assert etree.fromstring(xml).findtext("incidentSummary/incidentType") == incident_type.value
        assert incident_type.guidance and incident_type.label
    assert len(IncidentType) == 8


def test_hostile_text_is_escaped_and_round_trips():
    base = sample_report()
    report = dataclasses.replace(
        base,
        reporter=dataclasses.replace(
            base.reporter,
            reporting_person=dataclasses.replace(base.reporter.reporting_person, last_name=HOSTILE),
        ),
        additional_info=HOSTILE * 100,
    )
    xml = build_report_xml(report)

    assert validation_error(report_schema(), xml) is None
    root = etree.fromstring(xml)
    assert root.findtext("reporter/reportingPerson/lastName") == HOSTILE
    assert root.findtext("additionalInfo") == HOSTILE * 100
    assert b"<script>" not in xml


def test_characters_xml_forbids_are_removed_not_refused():
    dirty = "a\x00b\x01c\x0bd\x1fe\ud800f\ufffeg\uffffh\ti\nj\rk"
    report = dataclasses.replace(sample_report(), additional_info=dirty)

    xml = build_report_xml(report)

    assert etree.fromstring(xml).findtext("additionalInfo") == "abcdefgh\ti\nj\rk"  # \r kept as &#13;
    assert xml_safe_text(dirty) == "abcdefgh\ti\nj\rk"


def test_very_long_free_text_is_kept_but_schema_limits_short_fields():
    long_text = "x" * 60_000
    assert (
        validation_error(
            report_schema(), build_report_xml(dataclasses.replace(sample_report(), additional_info=long_text))
        )
        is None
    )

    base = sample_report()
    too_long_name = dataclasses.replace(
        base,
        reporter=dataclasses.replace(
            base.reporter,
            reporting_person=dataclasses.replace(base.reporter.reporting_person, first_name="n" * 300),
        ),
    )
    assert "firstName" in validation_error(report_schema(), build_report_xml(too_long_name))


def test_naive_datetime_is_refused():
    base = sample_report()
    naive = dataclasses.replace(
        base,
        incident_summary=dataclasses.replace(base.incident_summary, incident_date_time=datetime(2026, 1, 1)),
    )
    with pytest.raises(ValueError, match="naive datetime"):
        build_report_xml(naive)


def test_aware_datetimes_are_written_in_utc_with_z():
    plus_two = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(plus_two) == "2026-11-20T08:00:00Z"


def test_schema_rejects_a_naive_datetime_written_by_hand():
    xml = build_report_xml(sample_report()).replace(b"2026-11-20T08:00:00Z", b"2026-11-20T08:00:00")
    assert "incidentDateTime" in validation_error(report_schema(), xml)


def test_schema_rejects_wrong_order():
    root = etree.fromstring(build_report_xml(sample_report()))
    reporter = root.find("reporter")
    root.remove(reporter)
    root.insert(0, reporter)  # reporter before incidentSummary
    assert validation_error(report_schema(), etree.tostring(root)) is not None


def test_schema_rejects_unknown_incident_type():
    xml = build_report_xml(sample_report()).replace(b"Child Pornography", b"Child Porn")
    assert "incidentType" in validation_error(report_schema(), xml)


def test_builder_refuses_unknown_enum_values_and_missing_required_fields():
    base = sample_report()
    with pytest.raises(ValueError):
        build_report_xml(
            dataclasses.replace(
                base,
                incident_summary=dataclasses.replace(base.incident_summary, incident_type="Something else"),
            )
        )
    with pytest.raises(ValueError, match="email is required"):
        build_report_xml(
            dataclasses.replace(
                base,
                reporter=dataclasses.replace(
                    base.reporter,
                    reporting_person=dataclasses.replace(base.reporter.reporting_person, email=""),
                ),
            )
        )


def test_annotations_and_escalation():
    base = sample_report()
    report = dataclasses.replace(
        base,
        incident_summary=dataclasses.replace(
            base.incident_summary,
            escalate_to_high_priority="Child in imminent danger",
            report_annotations={ReportAnnotation.SPAM, ReportAnnotation.SEXTORTION},
        ),
    )
    xml = build_report_xml(report)
    assert validation_error(report_schema(), xml) is None
    assert child_tags(xml, "incidentSummary") == [
        "incidentType",
        "escalateToHighPriority",
        "reportAnnotations",
        "incidentDateTime",
        "incidentDateTimeDescription",
    ]
    # Flags come out in schema order whatever order the caller gave them in.
    assert child_tags(xml, "incidentSummary/reportAnnotations") == ["sextortion", "spam"]


def test_empty_optional_blocks_are_left_out():
    base = sample_report()
    report = dataclasses.replace(
        base,
        persons_or_users_reported=[
            dataclasses.replace(
                base.persons_or_users_reported[0], person_or_user_reported_person=None, ip_capture_events=[]
            ),
        ],
    )
    xml = build_report_xml(report)
    assert child_tags(xml, "personOrUserReported") == ["espIdentifier", "screenName"]


def test_file_details_valid_in_order_with_booleans():
    details = dataclasses.replace(
        sample_file_details("100001", "abc", viewed=False),
        exif_viewed_by_esp=True,
        file_annotations=[FileAnnotation.VIRAL, FileAnnotation.GENERATIVE_AI],
        industry_classification=IndustryClassification.B2,
        original_file_hashes=[FileHash(HashType.MD5, "0" * 32), FileHash(HashType.SHA1, "1" * 40)],
        additional_info=HOSTILE,
    )
    xml = build_file_details_xml(details)

    assert validation_error(file_details_schema(), xml) is None
    root = etree.fromstring(xml)
    assert root.findtext("fileViewedByEsp") == "false"
    assert root.findtext("exifViewedByEsp") == "true"
    order = [e.name for e in FILE_DETAILS.children]
    tags = [node.tag for node in root]
    assert tags == sorted(tags, key=order.index)
    assert [n.get("hashType") for n in root.findall("originalFileHash")] == ["MD5", "SHA1"]


def test_file_details_schema_rejects_bad_values():
    xml = build_file_details_xml(sample_file_details("1", "f", viewed=True))
    assert validation_error(file_details_schema(), xml.replace(b">true<", b">yes<")) is not None
    assert validation_error(file_details_schema(), xml.replace(b">Reported<", b">Maybe<")) is not None
    assert validation_error(report_schema(), xml) is not None  # a fileDetails is not a report


def test_combined_xsd_is_a_valid_schema_with_both_roots():
    schema = etree.fromstring(xsd_bytes())
    names = [e.get("name") for e in schema.findall("{http://www.w3.org/2001/XMLSchema}element")]
    assert names == ["report", "fileDetails"]
    etree.XMLSchema(schema)


def test_untrusted_parser_refuses_entities():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><reportResponse>&a;</reportResponse>'
    with pytest.raises((ValueError, etree.XMLSyntaxError)):
        parse_untrusted_xml(bomb)


@pytest.mark.parametrize(
    ("code", "family"),
    [
        (0, CodeFamily.SUCCESS),
        (1000, CodeFamily.RETRYABLE),
        (1111, CodeFamily.RETRYABLE),
        (2000, CodeFamily.NEEDS_ADMIN),
        (3100, CodeFamily.NEEDS_ADMIN),
        (4100, CodeFamily.DATA),
        (5001, CodeFamily.REPORT_STATE),
        (5102, CodeFamily.REPORT_STATE),
        (9999, CodeFamily.DATA),
    ],
)
def test_response_code_families(code, family):
    assert classify_code(code) is family


def test_chat_incident_and_reporter_extras_are_valid():
    base = sample_report()
    report = dataclasses.replace(
        base,
        internet_details=[
            InternetDetails(chat_im_incident=ChatImIncident(chat_client="DMs", content=HOSTILE))
        ],
        reporter=dataclasses.replace(
            base.reporter, terms_of_service="No CSAM.", legal_url="https://example.test/legal"
        ),
    )
    xml = build_report_xml(report)
    assert validation_error(report_schema(), xml) is None
    assert child_tags(xml, "reporter") == ["reportingPerson", "companyTemplate", "termsOfService", "legalURL"]
    with pytest.raises(ValueError, match="exactly one"):
        InternetDetails()
