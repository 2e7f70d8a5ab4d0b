"""The documents we build, checked against NCMEC's own XSD (vendored) and its documented field rules."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from lxml import etree

from console.ncmec import (
    AccountDisabled,
    Address,
    AddressType,
    AssociatedAccount,
    AssociatedAccountType,
    CellPhoneIncident,
    ChatImIncident,
    ContactPerson,
    Details,
    DetailsType,
    DeviceId,
    DocumentError,
    EmailIncident,
    EstimatedLocation,
    FileAnnotation,
    FileDetails,
    FileHash,
    FileRelevance,
    HashType,
    IncidentType,
    IndustryClassification,
    IntendedRecipient,
    IpCaptureEvent,
    IpCaptureEventName,
    LawEnforcement,
    NewsgroupIncident,
    NonInternetIncident,
    OnlineGamingIncident,
    Peer2PeerIncident,
    Person,
    PersonOrUserReported,
    Report,
    ReportAnnotation,
    Reporter,
    Victim,
    WebPageIncident,
    build_file_details_xml,
    build_report_xml,
    schema,
)
from console.ncmec.constants import CodeFamily, classify_code, ip_event_name
from console.ncmec.documents import format_datetime, parse_untrusted_xml
from tests.ncmec_fixtures import sample_file_details, sample_report

HOSTILE = "<script>&amp; \"quoted\" 'single' ]]> 😀 עברית مرحبا \u202e"
WHEN = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def child_tags(xml: bytes, path: str = ".") -> list[str]:
    return [node.tag for node in etree.fromstring(xml).find(path)]


def assert_valid(xml: bytes) -> None:
    found = schema.problems(xml)
    assert found == [], "\n".join(map(str, found)) + "\n" + xml.decode()


# --- every kind of document the console can produce ---

USERS = {
    "none": [],
    "id only": [PersonOrUserReported(esp_identifier="u-1")],
    "named": [
        PersonOrUserReported(
            person=Person(first_name="Sam", last_name="Doe"),
            esp_identifier="u-2",
            screen_name="sam",
            display_names=["Sam D."],
            profile_urls=["https://example.test/u/sam"],
        )
    ],
    "emails and phone": [
        PersonOrUserReported(
            person=Person(phones=["+1 555 0100"], emails=["a@example.test", "b@example.test"], age=34),
            display_names=["Two Mails"],
        )
    ],
    "everything the platform knows": [
        PersonOrUserReported(
            person=Person(
                first_name="Sam",
                last_name="Doe",
                phones=["+1 555 0100"],
                emails=["sam@example.test"],
                addresses=[
                    Address("1 Main St", "Springfield", "62701", "IL", type=AddressType.HOME),
                    Address(city="Berlin", non_usa_state="Berlin", country="DE"),
                ],
                age=34,
                date_of_birth=date(1990, 4, 2),
            ),
            esp_identifier="u-3",
            screen_name="sam",
            display_names=["Sam D."],
            device_ids=[
                DeviceId("IMEI", "490154203237518", IpCaptureEventName.LOGIN, WHEN),
                DeviceId("IDFA", "6D92078A-8246-4BA4-AE5B-76104861E7DC"),
            ],
            third_party_user_reported=False,
            prior_ct_reports=[7855778],
            group_identifier="trade-group-42",
            estimated_location=EstimatedLocation(
                "Springfield", "Illinois", "US", verified=True, timestamp=WHEN
            ),
            all_emails_reported=True,
            associated_accounts=[
                AssociatedAccount(
                    AssociatedAccountType.LINKED,
                    platform="OtherChat",
                    third_party_user=True,
                    screen_name="sam_alt",
                    emails=["alt@example.test"],
                    ip_capture_events=[IpCaptureEvent("198.51.100.9")],
                    device_ids=[DeviceId("IMEI", "1")],
                ),
                AssociatedAccount(AssociatedAccountType.PARENT_GUARDIAN, esp_identifier="u-4"),
            ],
            additional_info="Known to the platform since 2019.",
        )
    ],
    "third-party user": [PersonOrUserReported(screen_name="elsewhere", third_party_user_reported=True)],
    "hostile": [
        PersonOrUserReported(
            person=Person(first_name=HOSTILE[:40], emails=[HOSTILE[:40]]),
            display_names=[HOSTILE[:90]],
            screen_name=HOSTILE[:90],
            additional_info=HOSTILE * 50,
        )
    ],
}
IP_EVENTS = {
    "none": [],
    **{
        f"{name.value} event": [
            IpCaptureEvent(
                "198.51.100.4", name, WHEN - timedelta(minutes=5), possible_proxy=False, port=51234
            )
        ]
        for name in IpCaptureEventName
    },
    "bare ipv6": [IpCaptureEvent("2001:db8::1")],
}


LAW_ENFORCEMENT = {
    "none": None,
    "agency only": LawEnforcement("Springfield Police Department"),
    "request with officer": LawEnforcement(
        "Springfield Police Department",
        case_number="SPD-2024-0042",
        officer_contact=ContactPerson(
            first_name="Olive",
            last_name="Officer",
            phones=["+1 555 0111"],
            emails=["o.officer@spd.example.gov"],
            addresses=[Address("100 Police Plaza", "Springfield", state="IL", type=AddressType.BUSINESS)],
        ),
        reported_to_le=True,
        served_legal_process_domestic=True,
    ),
}


def report_with(
    users,
    ip_events,
    incident_type,
    *,
    annotations=(),
    escalate=None,
    internet=(),
    law_enforcement=None,
    when=None,
):
    if users and ip_events:
        users = [dataclasses.replace(users[0], ip_capture_events=ip_events), *users[1:]]
    elif ip_events:
        users = [PersonOrUserReported(esp_identifier="u-ip", ip_capture_events=ip_events)]
    return Report(
        incident_summary=dataclasses.replace(
            sample_report().incident_summary,
            incident_type=incident_type,
            report_annotations=annotations,
            escalate_to_high_priority=escalate,
            incident_date_time_description=when,
        ),
        law_enforcement=law_enforcement,
        reporter=Reporter(
            Person(
                first_name="Rita", last_name="Reporter", phones=["+1 555 0199"], emails=["tns@example.test"]
            ),
            contact_person=ContactPerson(first_name="Lee", last_name="Law", emails=["le@example.test"]),
            company_template="Example Platform, Inc.",
            terms_of_service=HOSTILE,
            legal_url="https://example.test/legal",
        ),
        internet_details=list(internet),
        persons_or_users_reported=users,
        additional_info=HOSTILE,
    )


@pytest.mark.parametrize(
    ("user", "ip", "incident_type"),
    [
        (user, ip, incident)
        for (user, ip), incident in zip(
            itertools.product(USERS, IP_EVENTS), itertools.cycle(IncidentType), strict=False
        )
    ],
)
def test_every_combination_of_user_ip_events_and_incident_type_is_valid(user, ip, incident_type):
    assert_valid(build_report_xml(report_with(USERS[user], IP_EVENTS[ip], incident_type)))


ACCOUNT_STATUS = {
    "none": {},
    "permanent": {"account_permanently_disabled": AccountDisabled(disabled_date=WHEN)},
    "permanent, notified": {
        "account_permanently_disabled": AccountDisabled(
            disabled_date=WHEN, user_notified=True, user_notified_date=WHEN + timedelta(minutes=5)
        )
    },
    "temporary": {"account_temporarily_disabled": AccountDisabled(disabled_date=WHEN)},
    "temporary, re-enabled, then permanent": {
        "account_temporarily_disabled": AccountDisabled(
            disabled_date=WHEN - timedelta(days=3),
            reenabled_date=WHEN - timedelta(days=1),
            user_notified=False,
        ),
        "account_permanently_disabled": AccountDisabled(disabled_date=WHEN),
    },
    "a bare true": {"account_permanently_disabled": AccountDisabled()},
}
ENRICHED = {
    "none": {},
    "everything the platform knows": {
        "device_ids": [
            DeviceId("IMEI", "356938035643809", IpCaptureEventName.LOGIN, WHEN),
            DeviceId("idfa", "x"),
        ],
        "estimated_location": EstimatedLocation(
            "Lyon", "Auvergne-Rhône-Alpes", "FR", verified=False, timestamp=WHEN
        ),
        "associated_accounts": [
            AssociatedAccount(
                "Linked", platform="Other app", esp_identifier="o-1", emails=["o@example.test"]
            ),
            AssociatedAccount("Billing", screen_name=HOSTILE),
        ],
    },
}


@pytest.mark.parametrize("enriched", ENRICHED)
@pytest.mark.parametrize("status", ACCOUNT_STATUS)
def test_account_status_and_the_platforms_answer_are_valid_and_in_order(status, enriched):
    user = PersonOrUserReported(
        esp_identifier="u-1",
        ip_capture_events=[IpCaptureEvent("198.51.100.7", date_time=WHEN)],
        prior_ct_reports=[123],
        additional_info="Account created on the platform: 2025-01-01T00:00:00+00:00",
        **ACCOUNT_STATUS[status],
        **ENRICHED[enriched],
    )
    xml = build_report_xml(report_with([user], (), IncidentType.CHILD_PORNOGRAPHY))
    assert_valid(xml)
    tags = child_tags(xml, "personOrUserReported")
    expected = [
        "espIdentifier",
        "ipCaptureEvent",
        *(["deviceId"] * len(ENRICHED[enriched].get("device_ids", []))),
        "priorCTReports",
        *(["accountTemporarilyDisabled"] if "account_temporarily_disabled" in ACCOUNT_STATUS[status] else []),
        *(["accountPermanentlyDisabled"] if "account_permanently_disabled" in ACCOUNT_STATUS[status] else []),
        *(["estimatedLocation"] if ENRICHED[enriched] else []),
        *(["associatedAccount"] * len(ENRICHED[enriched].get("associated_accounts", []))),
        "additionalInfo",
    ]
    assert tags == expected
    permanent = etree.fromstring(xml).find("personOrUserReported/accountPermanentlyDisabled")
    if status == "permanent":
        assert permanent.text == "true" and permanent.get("disabledDate") == "2026-11-20T08:00:00Z"


def test_an_account_status_date_without_a_zone_is_refused_naming_the_field():
    user = PersonOrUserReported(
        esp_identifier="u-1", account_permanently_disabled=AccountDisabled(disabled_date=datetime(2026, 1, 1))
    )
    with pytest.raises(DocumentError) as refused:
        build_report_xml(report_with([user], (), IncidentType.CHILD_PORNOGRAPHY))
    assert refused.value.path == "report/personOrUserReported/accountPermanentlyDisabled@disabledDate"


@pytest.mark.parametrize("incident_type", list(IncidentType))
@pytest.mark.parametrize("escalate", [None, "A child appears to be in imminent danger. " + HOSTILE])
def test_each_incident_type_with_annotations_and_escalation_is_valid(incident_type, escalate):
    xml = build_report_xml(
        report_with(USERS["named"], [], incident_type, annotations=set(ReportAnnotation), escalate=escalate)
    )
    assert_valid(xml)
    assert etree.fromstring(xml).findtext("incidentSummary/incidentType") == incident_type.value


@pytest.mark.parametrize("law_enforcement", LAW_ENFORCEMENT)
@pytest.mark.parametrize("user", ["none", "id only", "everything the platform knows"])
@pytest.mark.parametrize("when", [None, "The upload time in the platform's storage log. " + HOSTILE])
def test_law_enforcement_and_the_incident_time_description_with_any_user_are_valid(
    law_enforcement, user, when
):
    xml = build_report_xml(
        report_with(
            USERS[user],
            [],
            IncidentType.CHILD_PORNOGRAPHY,
            law_enforcement=LAW_ENFORCEMENT[law_enforcement],
            when=when,
            internet=[WebPageIncident(urls=["https://example.test/p/1"])],
        )
    )
    assert_valid(xml)
    tags = child_tags(xml)
    if LAW_ENFORCEMENT[law_enforcement]:
        # Between internetDetails and reporter: the XSD's order.
        assert tags[tags.index("lawEnforcement") - 1] == "internetDetails"
        assert tags[tags.index("lawEnforcement") + 1] == "reporter"
    if when:
        assert child_tags(xml, "incidentSummary")[-1] == "incidentDateTimeDescription"


def test_every_detail_of_the_reported_user_is_in_the_xsds_order():
    xml = build_report_xml(
        report_with(USERS["everything the platform knows"], [], IncidentType.CHILD_PORNOGRAPHY)
    )
    assert_valid(xml)
    assert child_tags(xml, "personOrUserReported") == [
        "personOrUserReportedPerson",
        "espIdentifier",
        "screenName",
        "displayName",
        "deviceId",
        "deviceId",
        "thirdPartyUserReported",
        "priorCTReports",
        "groupIdentifier",
        "estimatedLocation",
        "allEmailsReported",
        "associatedAccount",
        "associatedAccount",
        "additionalInfo",
    ]
    assert child_tags(xml, "personOrUserReported/personOrUserReportedPerson") == [
        "firstName",
        "lastName",
        "phone",
        "email",
        "address",
        "address",
        "age",
        "dateOfBirth",
    ]
    root = etree.fromstring(xml)
    account = root.find("personOrUserReported/associatedAccount")
    assert account.get("type") == "Linked" and account.find("platform").get("thirdPartyUser") == "true"
    assert root.find("personOrUserReported/estimatedLocation").get("verified") == "true"
    assert root.find("personOrUserReported/personOrUserReportedPerson/address").get("type") == "Home"


def test_the_enumerations_of_the_new_sections_are_refused_when_wrong():
    user = PersonOrUserReported(person=Person(addresses=[Address(state="Bavaria")]))
    found = schema.problems(build_report_xml(report_with([user], [], IncidentType.CHILD_PORNOGRAPHY)))
    assert [p.field for p in found] == ["Reported user › person › address › state"]
    where = PersonOrUserReported(estimated_location=EstimatedLocation(country_code="Germany"))
    found = schema.problems(build_report_xml(report_with([where], [], IncidentType.CHILD_PORNOGRAPHY)))
    assert [p.field for p in found] == ["Reported user › estimated location › country"]


INCIDENTS = [
    WebPageIncident(
        urls=["https://example.test/p/1", "https://example.test/p/2"], third_party_hosted_content=False
    ),
    EmailIncident(email_addresses=["x@example.test"], content=HOSTILE),
    NewsgroupIncident(name="alt.example", email_addresses=["n@example.test"], content="post"),
    ChatImIncident(chat_client="Example DMs", chat_room_name="room 7", content=HOSTILE),
    OnlineGamingIncident(game_name="Example Quest", console="PC", content="chat"),
    CellPhoneIncident(phone_number="+1 555 0123", latitude=40.7, longitude=-74.0),
    NonInternetIncident(location_name="School"),
    Peer2PeerIncident(
        client="ExampleTorrent", ip_capture_events=IP_EVENTS["Upload event"], file_names="a.jpg"
    ),
]


@pytest.mark.parametrize("incident", INCIDENTS, ids=lambda i: i.element)
def test_each_internet_details_kind_is_valid(incident):
    xml = build_report_xml(
        report_with(USERS["id only"], [], IncidentType.ONLINE_ENTICEMENT, internet=[incident])
    )
    assert_valid(xml)
    assert child_tags(xml, "internetDetails") == [incident.element]


def test_the_richest_report_is_valid_and_in_the_xsds_order():
    report = dataclasses.replace(
        report_with(
            USERS["named"] + USERS["emails and phone"],
            IP_EVENTS["Login event"] + IP_EVENTS["bare ipv6"],
            IncidentType.ONLINE_ENTICEMENT,
            annotations={ReportAnnotation.SEXTORTION, ReportAnnotation.MINOR_TO_MINOR_INTERACTION},
            escalate="Imminent danger",
            internet=INCIDENTS,
        ),
        intended_recipients=[
            IntendedRecipient(
                person=Person(first_name="Kim", age=13), esp_identifier="u-9", display_names=["K"]
            )
        ],
        victims=[Victim(person=Person(first_name="Kim", date_of_birth=date(2013, 5, 1)), school_name="PS 1")],
    )
    report = dataclasses.replace(
        report,
        persons_or_users_reported=[
            dataclasses.replace(report.persons_or_users_reported[0], prior_ct_reports=[7855778, 7855779]),
            *report.persons_or_users_reported[1:],
        ],
    )
    xml = build_report_xml(report)
    assert_valid(xml)
    assert child_tags(xml)[:2] == ["incidentSummary", "internetDetails"]
    assert child_tags(xml)[-4:] == ["personOrUserReported", "intendedRecipient", "victim", "additionalInfo"]
    user = etree.fromstring(xml).find("personOrUserReported")
    # displayName sits on personOrUserReported after screenName, never inside the person.
    assert [n.tag for n in user][:6] == [
        "personOrUserReportedPerson",
        "espIdentifier",
        "screenName",
        "displayName",
        "profileUrl",
        "ipCaptureEvent",
    ]
    assert user.find("personOrUserReportedPerson/displayName") is None
    assert [n.text for n in user.findall("priorCTReports")] == ["7855778", "7855779"]


def test_person_has_phone_before_email():
    xml = build_report_xml(report_with(USERS["emails and phone"], [], IncidentType.CHILD_PORNOGRAPHY))
    assert child_tags(xml, "personOrUserReported/personOrUserReportedPerson") == [
        "phone",
        "email",
        "email",
        "age",
    ]
    assert child_tags(xml, "reporter/reportingPerson") == ["firstName", "lastName", "phone", "email"]


def test_hostile_text_is_escaped_and_round_trips():
    xml = build_report_xml(report_with(USERS["hostile"], [], IncidentType.CHILD_PORNOGRAPHY))
    assert_valid(xml)
    root = etree.fromstring(xml)
    assert root.findtext("reporter/termsOfService") == HOSTILE
    assert root.findtext("personOrUserReported/displayName") == HOSTILE[:90]
    assert b"<script>" not in xml


@pytest.mark.parametrize("bad", ["nul\x00byte", "bell\x07", "lone \ud800 surrogate", "\ufffe"])
def test_characters_xml_cannot_carry_are_refused_naming_the_field(bad):
    user = PersonOrUserReported(esp_identifier="u", display_names=[bad])
    with pytest.raises(DocumentError) as caught:
        build_report_xml(report_with([user], [], IncidentType.CHILD_PORNOGRAPHY))
    assert caught.value.path == "report/personOrUserReported/displayName"
    assert "XML cannot carry" in str(caught.value)


# --- file details ---


@pytest.mark.parametrize("files", [0, 1, 2, 3])
def test_reports_with_zero_to_three_files_have_valid_file_details(files):
    assert_valid(build_report_xml(report_with(USERS["named"], [], IncidentType.CHILD_PORNOGRAPHY)))
    for i in range(files):
        details = dataclasses.replace(
            sample_file_details("7855778", f"{i:032x}", viewed=bool(i % 2)),
            original_file_name=f"{HOSTILE[:20]} {i}.jpg",
            industry_classification=list(IndustryClassification)[i],
            file_annotations={FileAnnotation.GENERATIVE_AI} if i else set(),
            original_file_hashes=[FileHash(HashType.SHA256, "a" * 64), FileHash(HashType.MD5, "b" * 32)],
        )
        assert_valid(build_file_details_xml(details))


def test_the_richest_file_details_are_valid_and_in_order():
    details = FileDetails(
        report_id="7855778",
        file_id="15a2034b50f2a558f6595a2b5e02ccce",
        file_viewed_by_esp=False,
        file_name="file-1.jpg",
        original_file_name="holiday photo.jpg",
        uploaded_to_esp_timestamp=WHEN,
        location_of_file="https://cdn.example.test/f/1.jpg",
        exif_viewed_by_esp=False,
        publicly_available=True,
        file_relevance=FileRelevance.REPORTED,
        file_annotations={FileAnnotation.VIRAL, FileAnnotation.INFANT},
        industry_classification=IndustryClassification.A1,
        original_file_hashes=[FileHash(HashType.MD5, "b" * 32), FileHash("PhotoDNA", "opaque")],
        ip_capture_event=IpCaptureEvent("203.0.113.9", IpCaptureEventName.UPLOAD, WHEN, port=443),
        device_ids=[DeviceId("IMEI", "490154203237518", IpCaptureEventName.UPLOAD, WHEN)],
        details=[
            Details(DetailsType.EXIF, [("Make", "Example"), ("Model", HOSTILE)]),
            Details(DetailsType.HASH, [("PDQ", "f" * 64)]),
        ],
        additional_info=HOSTILE,
    )
    xml = build_file_details_xml(details)
    assert_valid(xml)
    root = etree.fromstring(xml)
    assert [n.tag for n in root][:10] == [
        "reportId",
        "fileId",
        "fileName",
        "originalFileName",
        "uploadedToEspTimestamp",
        "locationOfFile",
        "fileViewedByEsp",
        "exifViewedByEsp",
        "publiclyAvailable",
        "fileRelevance",
    ]
    assert [n.tag for n in root][-7:] == [
        "originalFileHash",
        "originalFileHash",
        "ipCaptureEvent",
        "deviceId",
        "details",
        "details",
        "additionalInfo",
    ]
    assert root.find("details").get("type") == "EXIF"
    assert root.findtext("details/nameValuePair/name") == "Make"


def test_supplemental_files_cannot_carry_an_industry_classification():
    details = dataclasses.replace(
        sample_file_details("1", "f", viewed=True),
        file_relevance=FileRelevance.SUPPLEMENTAL_REPORTED,
        industry_classification=IndustryClassification.B2,
    )
    with pytest.raises(DocumentError, match="only a file whose relevance is Reported"):
        build_file_details_xml(details)
    assert_valid(build_file_details_xml(dataclasses.replace(details, industry_classification=None)))
    assert [r.value for r in FileRelevance] == ["Reported", "Supplemental Reported"]


# --- what the checks say, in words ---


def test_schema_problems_name_the_field_in_words():
    xml = build_report_xml(sample_report())
    bad = xml.replace(b"<eventName>Upload</eventName>", b"<eventName>Post</eventName>")
    [problem] = schema.problems(bad)
    assert problem.field == "Reported user › IP event › event name"
    assert "“Post” is not one of Login, Registration, Purchase, Upload, Other, Unknown" in problem.message

    moved = xml.replace(b"<report>", b"<report><additionalInfo>x</additionalInfo>", 1)
    assert "wrong place" in str(schema.problems(moved)[0])

    port = xml.replace(b"<port>443</port>", b"<port>https</port>")
    assert str(schema.problems(port)[0]) == "Reported user › IP event › port: must be a whole number"


def test_documented_field_rules_are_checked():
    long_name = dataclasses.replace(
        sample_report(),
        persons_or_users_reported=[PersonOrUserReported(person=Person(first_name="x" * 101))],
    )
    [problem] = schema.problems(build_report_xml(long_name))
    assert str(problem) == "Reported user › person › first name: is longer than 100 characters (101)"

    spaced = dataclasses.replace(
        sample_report(), internet_details=[WebPageIncident(urls=["https://a.test/x y"])]
    )
    assert "whitespace" in str(schema.problems(build_report_xml(spaced))[0])

    future = dataclasses.replace(
        sample_report(),
        incident_summary=dataclasses.replace(
            sample_report().incident_summary, incident_date_time=datetime.now(UTC) + timedelta(hours=1)
        ),
    )
    assert str(schema.problems(build_report_xml(future))[0]) == "Incident › incident time: is in the future"

    escalated = dataclasses.replace(
        sample_report(),
        incident_summary=dataclasses.replace(
            sample_report().incident_summary, escalate_to_high_priority="x" * 3001
        ),
    )
    assert "longer than 3000" in str(schema.problems(build_report_xml(escalated))[0])


def test_a_fileDetails_is_checked_as_a_fileDetails():
    xml = build_file_details_xml(sample_file_details("1", "f", viewed=True))
    assert_valid(xml)
    assert schema.problems(xml.replace(b">true<", b">yes<"))[0].message == "must be true or false"
    assert "is not one of Reported, Supplemental Reported" in str(
        schema.problems(xml.replace(b">Reported<", b">Supplemental<"))[0]
    )
    assert "must be a number" in str(schema.problems(xml.replace(b"<reportId>1<", b"<reportId>one<"))[0])


# --- small pieces ---


def test_datetimes_are_utc_with_z_and_naive_ones_are_refused():
    assert format_datetime(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    with pytest.raises(ValueError, match="naive"):
        format_datetime(datetime(2026, 1, 2))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Login", "Login"),
        ("LOGIN", "Login"),
        ("sign-in", "Login"),
        ("signup", "Registration"),
        ("Post", "Upload"),
        ("purchase", "Purchase"),
        ("password reset", "Other"),
        ("", None),
        (None, None),
    ],
)
def test_platform_event_names_map_onto_ncmecs_enumeration(name, expected):
    mapped = ip_event_name(name)
    assert (mapped.value if mapped else None) == expected


def test_untrusted_parser_refuses_entities():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><reportResponse>&a;</reportResponse>'
    with pytest.raises((ValueError, etree.XMLSyntaxError)):
        parse_untrusted_xml(bomb)


@pytest.mark.parametrize(
    ("code", "description", "family"),
    [
        (0, "Success", CodeFamily.SUCCESS),
        (1000, "", CodeFamily.RETRYABLE),
        (1111, "", CodeFamily.RETRYABLE),
        (1001, "Malformed (xml) report submittal - cvc", CodeFamily.MALFORMED),
        (1234, "Malformed something", CodeFamily.MALFORMED),
        (1234, "", CodeFamily.UNKNOWN),
        (2000, "", CodeFamily.NEEDS_ADMIN),
        (3100, "", CodeFamily.NEEDS_ADMIN),
        (4000, "", CodeFamily.DATA),
        (4100, "", CodeFamily.MALFORMED),
        (4110, "", CodeFamily.MALFORMED),
        (5001, "", CodeFamily.REPORT_STATE),
        (5102, "", CodeFamily.REPORT_STATE),
        (5999, "", CodeFamily.UNKNOWN),
        (9999, "", CodeFamily.UNKNOWN),
    ],
)
def test_response_code_families(code, description, family):
    assert classify_code(code, description) is family
