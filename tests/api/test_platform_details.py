"""What the platform knows about its user, each file and a law-enforcement request: accepted by the API under
NCMEC's field rules, refused by name when NCMEC would refuse it, stored for the report."""

from __future__ import annotations

import pytest

from console.api import platform_details
from console.cases.models import Case, ReportedUser
from console.extensions import db
from tests import factories
from tests.api import test_ingestion
from tests.api.test_ingestion import body

api = test_ingestion.api  # the upstream system posting cases (a fixture)

# Everything a platform may know about the user who posted the content.
USER_DETAILS = {
    "first_name": "Sam",
    "last_name": "Example",
    "phones": ["+1 555 0100", "+1 555 0101"],
    "emails": ["sam.other@mail.example"],
    "all_emails_reported": True,
    "addresses": [
        {"type": "Home", "street": "1 Main St", "city": "Springfield", "zip_code": "62701", "state": "IL"},
        {"city": "Berlin", "non_usa_state": "Berlin", "country": "DE"},
    ],
    "age": 34,
    "date_of_birth": "1990-04-02",
    "device_ids": [
        {"type": "IMEI", "value": "490154203237518", "event": "login", "at": "2024-05-01T11:00:00Z"},
        {"type": "IDFA", "value": "6D92078A-8246-4BA4-AE5B-76104861E7DC"},
    ],
    "estimated_location": {
        "city": "Springfield",
        "region": "Illinois",
        "country_code": "US",
        "verified": False,
        "at": "2024-05-01T11:00:00Z",
    },
    "associated_accounts": [
        {"type": "Linked", "platform": "OtherChat", "third_party": True, "screen_name": "sam_alt"},
        {"type": "Billing", "platform_id": "acct-77-billing", "emails": ["billing@mail.example"]},
    ],
    "group_identifier": "trade-group-42",
    "third_party_user": False,
}
LAW_ENFORCEMENT = {
    "agency_name": "Springfield Police Department",
    "case_number": "SPD-2024-0042",
    "officer": {
        "first_name": "Olive",
        "last_name": "Officer",
        "email": "o.officer@spd.example.gov",
        "phone": "+1 555 0111",
    },
    "reported_to_le": False,
    "served_legal_process": True,
}
FILE_DETAILS = {
    "file_name": "a1b2c3.jpg",
    "uploaded_at": "2024-05-01T11:30:00Z",
    "location": "https://cdn.platform.example/f/a1b2c3.jpg",
    "publicly_available": True,
    "upload_ip": {"ip": "203.0.113.50", "at": "2024-05-01T11:30:00Z", "event": "upload", "port": 51515},
    "device_ids": [{"type": "IMEI", "value": "490154203237518", "event": "upload"}],
    "details": [
        {"name": "Make", "value": "ExampleCam"},
        {"type": "EXIF", "name": "DateTimeOriginal", "value": "2024:04:30 22:00:00"},
        {"type": "HASH", "name": "platform-hash", "value": "ph-0042"},
    ],
}


def full_body(**overrides):
    """A law-enforcement request with everything the platform knows (the user, the request, the file)."""
    out = body(
        source_kind="lea_request",
        reported_user={**body()["reported_user"], **USER_DETAILS},
        law_enforcement=LAW_ENFORCEMENT,
        incident_time_description="The upload time, from the platform's storage log.",
        media_details=[FILE_DETAILS],
    )
    out.update(overrides)
    return out


def test_every_detail_the_platform_knows_is_accepted_and_kept(api):
    factories.queue("Law-enforcement requests", "lea_request")
    response = api.post_multipart(full_body(), [("upload.png", factories.png_bytes(5), "image/png")])
    assert response.status_code == 201, response.json
    case = db.session.get(Case, response.json["case_id"])
    user = case.reported_user
    assert user.details["phones"] == ["+1 555 0100", "+1 555 0101"]
    assert user.details["addresses"][0] == {
        "type": "Home",
        "street": "1 Main St",
        "city": "Springfield",
        "zip_code": "62701",
        "state": "IL",
    }
    assert user.details["device_ids"][0] == {
        "type": "IMEI",
        "value": "490154203237518",
        "event": "login",
        "at": "2024-05-01T11:00:00+00:00",
    }
    assert user.details["estimated_location"]["country_code"] == "US"
    assert user.details["estimated_location"]["verified"] is False
    assert user.details["associated_accounts"][0]["third_party"] is True
    assert user.details["third_party_user"] is False and user.details["all_emails_reported"] is True
    assert case.law_enforcement == LAW_ENFORCEMENT
    assert case.incident_time_description.startswith("The upload time")
    assert case.is_law_enforcement_request
    [media] = case.media
    assert media.details["location"] == FILE_DETAILS["location"]
    assert media.details["upload_ip"] == {
        "ip": "203.0.113.50",
        "at": "2024-05-01T11:30:00+00:00",
        "event": "upload",
        "port": 51515,
    }
    assert media.details["details"][0] == {"type": "EXIF", "name": "Make", "value": "ExampleCam"}


def test_a_later_case_adds_devices_and_replaces_other_details(api):
    first = body(reported_user={**body()["reported_user"], **USER_DETAILS})
    assert api.post(first).status_code == 201
    later_user = {
        "platform_id": "acct-77",
        "age": 35,
        "device_ids": [
            {"type": "IMEI", "value": "490154203237518", "event": "login", "at": "2024-05-01T11:00:00Z"}
        ]
        + [{"type": "Android ID", "value": "9774d56d682e549c"}],
    }
    assert api.post(body(content_id="post-1002", reported_user=later_user)).status_code == 201
    db.session.rollback()
    user = db.session.query(ReportedUser).one()
    assert user.details["age"] == 35  # replaced
    assert [d["value"] for d in user.details["device_ids"]] == [
        "490154203237518",
        "6D92078A-8246-4BA4-AE5B-76104861E7DC",
        "9774d56d682e549c",
    ]  # added once each
    assert user.details["group_identifier"] == "trade-group-42"  # kept: not sent again


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"reported_user": {"platform_id": "u", "phones": "+1 555"}}, "reported_user.phones", "list"),
        (
            {"reported_user": {"platform_id": "u", "phones": ["x" * 51]}},
            "reported_user.phones[0]",
            "at most 50",
        ),
        ({"reported_user": {"platform_id": "u", "emails": ["nope"]}}, "reported_user.emails[0]", "email"),
        (
            {"reported_user": {"platform_id": "u", "addresses": [{"state": "Bavaria"}]}},
            "reported_user.addresses[0].state",
            "must be one of",
        ),
        (
            {"reported_user": {"platform_id": "u", "addresses": [{"country": "Germany"}]}},
            "reported_user.addresses[0].country",
            "must be one of",
        ),
        (
            {"reported_user": {"platform_id": "u", "addresses": [{"type": "Home"}]}},
            "reported_user.addresses[0]",
            "at least one part",
        ),
        (
            {"reported_user": {"platform_id": "u", "addresses": [{"planet": "Mars"}]}},
            "reported_user.addresses[0].planet",
            "unknown field",
        ),
        ({"reported_user": {"platform_id": "u", "age": "34"}}, "reported_user.age", "whole number"),
        (
            {"reported_user": {"platform_id": "u", "date_of_birth": "02/04/1990"}},
            "reported_user.date_of_birth",
            "YYYY-MM-DD",
        ),
        (
            {"reported_user": {"platform_id": "u", "device_ids": [{"type": "IMEI"}]}},
            "reported_user.device_ids[0].value",
            "is required",
        ),
        (
            {
                "reported_user": {
                    "platform_id": "u",
                    "device_ids": [{"type": "IMEI", "value": "1", "at": "now"}],
                }
            },
            "reported_user.device_ids[0].at",
            "ISO 8601",
        ),
        (
            {"reported_user": {"platform_id": "u", "estimated_location": {"verified": True}}},
            "reported_user.estimated_location",
            "city, region or country_code",
        ),
        (
            {"reported_user": {"platform_id": "u", "estimated_location": {"country_code": "us"}}},
            "reported_user.estimated_location.country_code",
            "must be one of",
        ),
        (
            {"reported_user": {"platform_id": "u", "associated_accounts": [{"platform": "X"}]}},
            "reported_user.associated_accounts[0].type",
            "is required",
        ),
        (
            {"reported_user": {"platform_id": "u", "associated_accounts": [{"type": "Friend", "name": "a"}]}},
            "reported_user.associated_accounts[0].type",
            "must be one of",
        ),
        (
            {"reported_user": {"platform_id": "u", "third_party_user": "yes"}},
            "reported_user.third_party_user",
            "true or false",
        ),
        (
            {"reported_user": {"platform_id": "u", "group_identifier": "g\x00"}},
            "reported_user.group_identifier",
            "NUL",
        ),
        ({"law_enforcement": {"case_number": "1"}}, "law_enforcement.agency_name", "is required"),
        (
            {"law_enforcement": {"agency_name": "PD", "officer": {"email": "desk"}}},
            "law_enforcement.officer.email",
            "email",
        ),
        (
            {"law_enforcement": {"agency_name": "PD", "officer": {"badge": "7"}}},
            "law_enforcement.officer.badge",
            "unknown field",
        ),
        (
            {"law_enforcement": {"agency_name": "PD", "reported_to_le": 1}},
            "law_enforcement.reported_to_le",
            "true",
        ),
        ({"incident_time_description": "x" * 3001}, "incident_time_description", "at most 3000"),
    ],
)
def test_a_detail_ncmec_would_refuse_is_refused_by_name(api, change, path, message):
    response = api.post(body(**change))
    assert response.status_code == 422
    assert message in response.json["errors"][path], response.json
    assert db.session.query(Case).count() == 0


@pytest.mark.parametrize(
    ("details", "path", "message"),
    [
        ({"location": "https://cdn.example/has space.jpg"}, "media_details[0].location", "whitespace"),
        ({"uploaded_at": "2024-05-01 11:30"}, "media_details[0].uploaded_at", "UTC offset"),
        ({"publicly_available": "no"}, "media_details[0].publicly_available", "true or false"),
        ({"upload_ip": {"ip": "300.1.1.1"}}, "media_details[0].upload_ip.ip", "IPv4 or IPv6"),
        (
            {"details": [{"type": "XMP", "name": "a", "value": "b"}]},
            "media_details[0].details[0].type",
            "EXIF",
        ),
        ({"details": [{"name": "Make"}]}, "media_details[0].details[0].value", "is required"),
        ({"size": 12}, "media_details[0].size", "unknown field"),
    ],
)
def test_a_files_detail_ncmec_would_refuse_is_refused_by_name(api, details, path, message):
    response = api.post_multipart(
        body(media_details=[details]), [("a.png", factories.png_bytes(1), "image/png")]
    )
    assert response.status_code == 422
    assert message in response.json["errors"][path], response.json


def test_more_file_details_than_files_is_refused(api):
    response = api.post_multipart(
        body(media_details=[{}, {"file_name": "b.jpg"}]), [("a.png", factories.png_bytes(1), "image/png")]
    )
    assert response.status_code == 422 and "one per part" in response.json["errors"]["media_details"]


def test_the_rules_apply_to_any_answer_of_the_platform_not_only_a_request():
    """An enrichment answer is a plain dict: checked by the functions ingestion uses, no request needed."""
    errors: dict[str, str] = {}
    events, details = platform_details.parse_user_details(
        {"ip_events": [{"ip": "2001:db8::1"}], **USER_DETAILS, "age": 200}, errors, path="answer.user"
    )
    assert events == [{"ip": "2001:db8::1"}]
    assert errors == {"answer.user.age": "must be a whole number of years from 0 to 130"}
    assert "age" not in details and details["device_ids"][1]["type"] == "IDFA"
    errors = {}
    kept = platform_details.parse_file_details(FILE_DETAILS, errors, "answer.files[0]")
    assert errors == {} and kept["upload_ip"]["port"] == 51515
