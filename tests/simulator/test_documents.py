"""Received documents: checked against NCMEC's XSD, refusals kept and shown, fields read the XSD's way."""

from __future__ import annotations

import requests

from .conftest import code, field
from .documents import (
    FULL_REPORT,
    MINIMAL_REPORT,
    REPORTER_FIRST,
    file_details_out_of_order,
    full_file_details,
)


def test_a_refused_report_is_listed_with_the_reason_and_what_was_received(sim, esp):
    esp.submit(REPORTER_FIRST)

    [refusal] = sim.refusals()
    assert refusal["endpoint"] == "submit"
    assert refusal["code"] == 1001
    assert refusal["message"].startswith("Malformed (xml) report submittal - Element 'reporter'")
    assert refusal["body"] == REPORTER_FIRST.decode()
    assert refusal["refused_at"]
    assert requests.get(f"{sim.root_url}/_sim/refusals", timeout=5).json() == [refusal]


def test_the_page_says_why_each_document_was_refused(sim, esp):
    esp.submit(REPORTER_FIRST)
    esp.submit(b"<report><additionalInfo>&lt;script&gt;alert(1)&lt;/script&gt;</additionalInfo></report>")

    page = requests.get(f"{sim.root_url}/", timeout=5).text

    assert "Refused documents" in page
    assert "Malformed (xml) report submittal - Element &#39;reporter&#39;" in page
    assert "<script>" not in page


def test_a_file_details_document_out_of_order_is_refused_as_a_file_details_submittal(sim, esp):
    report_id = esp.open_report()
    file_id = esp.add_file(report_id)

    response = esp.fileinfo(file_details_out_of_order(report_id, file_id))

    assert code(response) == 1001
    assert field(response, "responseDescription").startswith(
        "Malformed (xml) file details submittal - Element 'fileId'"
    )
    assert [r["endpoint"] for r in sim.refusals()] == ["fileinfo"]
    assert sim.report(report_id)["files"][0]["details_received"] is False


def test_a_doctype_is_refused_and_no_entity_is_expanded(sim, esp):
    hostile = b'<!DOCTYPE report [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><report>&xxe;</report>'

    response = esp.submit(hostile)

    assert code(response) == 1001
    assert "DOCTYPE" in sim.refusals()[0]["message"]
    assert b"root:" not in response.content


def test_a_huge_refused_body_is_kept_truncated(sim, esp):
    body = b"<report>" + b"x" * 100_000  # never closed: not well-formed

    esp.submit(body)

    [refusal] = sim.refusals()
    assert len(refusal["body"]) == 64 * 1024
    assert refusal["body_size"] == len(body) and refusal["truncated"] is True


def test_state_errors_are_refusals_too(sim, esp):
    report_id = esp.open_report()
    esp.finish(report_id)

    esp.finish(report_id)

    [refusal] = sim.refusals()
    assert (refusal["endpoint"], refusal["code"], refusal["body"]) == ("finish", 5102, f"id={report_id}")


def test_a_full_report_is_read_as_the_xsd_structures_it(sim, esp):
    report_id = field(esp.submit(FULL_REPORT), "reportId")

    [received] = requests.get(f"{sim.root_url}/_sim/reports", timeout=5).json()

    assert received["report_id"] == report_id and received["state"] == "open"
    assert received["incident_type"] == "Online Enticement of Children for Sexual Acts"
    assert received["platform"] == "Example Chat"
    assert received["escalate_to_high_priority"] == "Ongoing contact with a child"
    assert received["report_annotations"] == ["sextortion", "minorToMinorInteraction"]
    assert received["urls"] == ["https://example.test/p/123"]
    assert received["chat"] == [
        {
            "chat_client": "Example Chat",
            "chat_room_name": "room-9",
            "content": "hello",
            "additional_info": None,
        }
    ]
    assert received["reporting_person"] == {
        "first_name": "Rita",
        "last_name": "Reporter",
        "email": "tns@example.test",
        "phone": "5550100",
    }
    assert received["reporter"]["company_template"] == "Example Platform, Inc."
    assert received["reporter"]["contact_person"]["emails"] == ["carl@example.test"]

    [user] = received["reported_users"]
    assert (user["first_name"], user["phones"], user["age"]) == ("Sam", ["5550199"], 34)
    assert user["emails"] == ["suspect@example.test", "other@example.test"]
    assert (user["esp_identifier"], user["esp_service"], user["screen_name"]) == (
        "user-42",
        "Example Chat",
        "suspect42",
    )
    assert user["display_names"] == ["Sam S.", "sammy"] and user["display_name"] == "Sam S."
    assert user["profile_urls"] == ["https://example.test/u/42"]
    assert user["ip_addresses"] == ["203.0.113.7", "198.51.100.2"]
    assert user["ip_events"][0] == {
        "ip_address": "203.0.113.7",
        "event_name": "Upload",
        "date_time": "2026-11-20T07:59:00Z",
        "possible_proxy": False,
        "port": 443,
    }
    assert user["ip_events"][1]["event_name"] == "Login" and user["ip_events"][1]["port"] is None
    assert user["prior_ct_reports"] == ["7855778"]
    assert "person_display_name" not in user

    [recipient] = received["intended_recipients"]
    assert (recipient["first_name"], recipient["screen_name"]) == ("Kim", "kid9")
    [victim] = received["victims"]
    assert (victim["age"], victim["display_names"]) == (13, ["K"])
    assert received["additional_info"] == "Reported by a user."


def test_file_details_are_read_with_name_value_pairs_and_one_ip_event(sim, esp):
    report_id = esp.open_report()
    file_id = esp.add_file(report_id, b"hello")

    assert code(esp.fileinfo(full_file_details(report_id, file_id))) == 0

    [file] = sim.report(report_id)["files"]
    assert file["details_received"] is True and file["md5"] == "5d41402abc4b2a76b9719d911017c592"
    assert file["file_viewed_by_esp"] is True and file["exif_viewed_by_esp"] is False
    assert file["publicly_available"] is False and file["file_relevance"] == "Reported"
    assert file["original_file_name"] == "IMG_0001.jpg"
    assert file["file_annotations"] == ["generativeAi", "viral"]
    assert file["industry_classification"] == "A2"
    assert file["original_file_hashes"] == {
        "MD5": "5d41402abc4b2a76b9719d911017c592",
        "PDQ": "f8f8f0cee0f4a84f06370a22038f63f0",
    }
    assert file["ip_event"] == {
        "ip_address": "203.0.113.7",
        "event_name": "Upload",
        "date_time": None,
        "possible_proxy": None,
        "port": 443,
    }
    assert file["file_details"] == [
        {"type": "EXIF", "name": "Model", "value": "Pixel 9"},
        {"type": "HASH", "name": "PhotoDNA", "value": "abc"},
    ]
    assert file["additional_info"] == ["Found by a hash match."]


def test_the_received_xml_is_kept_exactly(sim, esp):
    report_id = esp.open_report()

    assert sim.report(report_id)["xml"] == MINIMAL_REPORT.decode()
