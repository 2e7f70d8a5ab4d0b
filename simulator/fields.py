"""What the page, the JSON endpoints and tests read of a received document, following the XSD's structure.

Only valid documents get here (the schema check runs first), so elements are where the XSD puts them.
"""

from __future__ import annotations

from typing import Any

from lxml import etree


def _text(node: etree._Element | None, path: str) -> str | None:
    if node is None:
        return None
    value = node.findtext(path)
    return value if value not in (None, "") else None


def _texts(node: etree._Element | None, path: str) -> list[str]:
    return [child.text or "" for child in node.findall(path)] if node is not None else []


def _bool(node: etree._Element | None, path: str) -> bool | None:
    value = _text(node, path)
    # xs:boolean: "true"/"1" or "false"/"0", whitespace collapsed.
    return None if value is None else value.strip() in ("true", "1")


def _int(node: etree._Element | None, path: str) -> int | None:
    value = _text(node, path)
    return None if value is None else int(value.strip())


def _flags(node: etree._Element | None) -> list[str]:
    # Annotation flags are xs:boolean fixed="true": presence is the value, empty or "true".
    return [child.tag for child in node if isinstance(child.tag, str)] if node is not None else []


def _address(node: etree._Element) -> dict[str, Any]:
    return {
        "type": node.get("type"),
        "address": _text(node, "address"),
        "city": _text(node, "city"),
        "zip_code": _text(node, "zipCode"),
        "state": _text(node, "state"),
        "non_usa_state": _text(node, "nonUsaState"),
        "country": _text(node, "country"),
    }


def _person(node: etree._Element | None) -> dict[str, Any]:
    """The XSD's ``person`` type (reportingPerson, personOrUserReportedPerson, victimPerson...)."""
    return {
        "first_name": _text(node, "firstName"),
        "last_name": _text(node, "lastName"),
        "phones": _texts(node, "phone"),
        "emails": _texts(node, "email"),
        "addresses": [_address(a) for a in node.findall("address")] if node is not None else [],
        "age": _int(node, "age"),
        "date_of_birth": _text(node, "dateOfBirth"),
    }


def _ip_event(node: etree._Element) -> dict[str, Any]:
    return {
        "ip_address": _text(node, "ipAddress"),
        "event_name": _text(node, "eventName"),
        "date_time": _text(node, "dateTime"),
        "possible_proxy": _bool(node, "possibleProxy"),
        "port": _int(node, "port"),
    }


def _device(node: etree._Element) -> dict[str, Any]:
    return {
        "id_type": _text(node, "idType"),
        "id_value": _text(node, "idValue"),
        "event_name": _text(node, "eventName"),
        "date_time": _text(node, "dateTime"),
    }


def _account(node: etree._Element, person_tag: str) -> dict[str, Any]:
    """A reported user, intended recipient or victim: a person plus the platform's account details, which
    the XSD puts one level up from the person (displayName is here, not in the person)."""
    events = node.findall("ipCaptureEvent")
    display_names = _texts(node, "displayName")
    profile_urls = _texts(node, "profileUrl")
    return {
        **_person(node.find(person_tag)),
        "esp_identifier": _text(node, "espIdentifier"),
        "esp_service": _text(node, "espService"),
        "compromised_account": _bool(node, "compromisedAccount"),
        "screen_name": _text(node, "screenName"),
        "display_name": display_names[0] if display_names else None,
        "display_names": display_names,
        "profile_url": profile_urls[0] if profile_urls else None,
        "profile_urls": profile_urls,
        "ip_addresses": [_text(event, "ipAddress") for event in events],
        "ip_events": [_ip_event(event) for event in events],
        "device_ids": [_device(device) for device in node.findall("deviceId")],
        "prior_ct_reports": _texts(node, "priorCTReports"),
        "group_identifier": _text(node, "groupIdentifier"),
        "third_party_user_reported": _bool(node, "thirdPartyUserReported"),
        "account_temporarily_disabled": _bool(node, "accountTemporarilyDisabled"),
        "account_permanently_disabled": _bool(node, "accountPermanentlyDisabled"),
        "estimated_location": _estimated_location(node.find("estimatedLocation")),
        "all_emails_reported": _bool(node, "allEmailsReported"),
        "associated_accounts": [_associated_account(a) for a in node.findall("associatedAccount")],
        "additional_info": _texts(node, "additionalInfo"),
    }


def _estimated_location(node: etree._Element | None) -> dict[str, Any] | None:
    if node is None:
        return None
    verified = node.get("verified")
    return {
        "city": _text(node, "city"),
        "region": _text(node, "region"),
        "country_code": _text(node, "countryCode"),
        "verified": None if verified is None else verified.strip() in ("true", "1"),
        "timestamp": node.get("timestamp"),
    }


def _associated_account(node: etree._Element) -> dict[str, Any]:
    platform = node.find("platform")
    third_party = platform.get("thirdPartyUser") if platform is not None else None
    return {
        "type": node.get("type"),
        "platform": _text(node, "platform"),
        "third_party_user": None if third_party is None else third_party.strip() in ("true", "1"),
        "first_name": _text(node, "firstName"),
        "last_name": _text(node, "lastName"),
        "phones": _texts(node, "phone"),
        "emails": _texts(node, "email"),
        "esp_service": _text(node, "espService"),
        "esp_identifier": _text(node, "espIdentifier"),
        "profile_urls": _texts(node, "profileUrl"),
        "screen_name": _text(node, "screenName"),
        "display_names": _texts(node, "displayName"),
        "group_identifier": _text(node, "groupIdentifier"),
        "ip_events": [_ip_event(event) for event in node.findall("ipCaptureEvent")],
        "device_ids": [_device(device) for device in node.findall("deviceId")],
    }


def _chat(node: etree._Element) -> dict[str, Any]:
    return {
        "chat_client": _text(node, "chatClient"),
        "chat_room_name": _text(node, "chatRoomName"),
        "content": _text(node, "content"),
        "additional_info": _text(node, "additionalInfo"),
    }


def report_fields(root: etree._Element) -> dict[str, Any]:
    """The fields of a received ``report``."""
    summary = root.find("incidentSummary")
    reporter = root.find("reporter")
    person = _person(root.find("reporter/reportingPerson"))
    contact = root.find("reporter/contactPerson")
    law_enforcement = root.find("lawEnforcement")
    return {
        "incident_type": _text(summary, "incidentType"),
        "platform": _text(summary, "platform"),
        "escalate_to_high_priority": _text(summary, "escalateToHighPriority"),
        "report_annotations": _flags(summary.find("reportAnnotations")) if summary is not None else [],
        "incident_date_time": _text(summary, "incidentDateTime"),
        "incident_date_time_description": _text(summary, "incidentDateTimeDescription"),
        "urls": _texts(root, "internetDetails/webPageIncident/url"),
        # Every internetDetails element's additionalInfo, in order (one per content of a report).
        "internet_details_info": [
            _text(child, "additionalInfo") for node in root.findall("internetDetails") for child in node
        ],
        "chat": [_chat(node) for node in root.findall("internetDetails/chatImIncident")],
        "internet_detail_types": [child.tag for node in root.findall("internetDetails") for child in node],
        "law_enforcement": {
            "agency_name": _text(law_enforcement, "agencyName"),
            "case_number": _text(law_enforcement, "caseNumber"),
            "officer_contact": _person(law_enforcement.find("officerContact"))
            if law_enforcement.find("officerContact") is not None
            else None,
            "reported_to_le": _bool(law_enforcement, "reportedToLe"),
            "served_legal_process_domestic": _bool(law_enforcement, "servedLegalProcessDomestic"),
        }
        if law_enforcement is not None
        else None,
        # The first email and phone, as the page shows them; the reporter's full lists are under "reporter".
        "reporting_person": {
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "email": person["emails"][0] if person["emails"] else None,
            "phone": person["phones"][0] if person["phones"] else None,
        },
        "reporter": {
            "phones": person["phones"],
            "emails": person["emails"],
            "contact_person": _person(contact) if contact is not None else None,
            "company_template": _text(reporter, "companyTemplate"),
            "terms_of_service": _text(reporter, "termsOfService"),
            "legal_url": _text(reporter, "legalURL"),
        },
        "reported_users": [
            _account(node, "personOrUserReportedPerson") for node in root.findall("personOrUserReported")
        ],
        "intended_recipients": [
            _account(node, "intendedRecipientPerson") for node in root.findall("intendedRecipient")
        ],
        "victims": [
            {**_account(node, "victimPerson"), "school_name": _text(node, "schoolName")}
            for node in root.findall("victim")
        ],
        "additional_info": _text(root, "additionalInfo"),
    }


def file_details_fields(root: etree._Element) -> dict[str, Any]:
    """The fields of a received ``fileDetails``."""
    event = root.find("ipCaptureEvent")  # at most one here, unlike on a reported user
    return {
        "file_name": _text(root, "fileName"),
        "original_file_name": _text(root, "originalFileName"),
        "uploaded_to_esp_timestamp": _text(root, "uploadedToEspTimestamp"),
        "location_of_file": _text(root, "locationOfFile"),
        "file_viewed_by_esp": _bool(root, "fileViewedByEsp"),
        "exif_viewed_by_esp": _bool(root, "exifViewedByEsp"),
        "publicly_available": _bool(root, "publiclyAvailable"),
        "file_relevance": _text(root, "fileRelevance"),
        # The XSD still accepts a bare potentialMeme in place of fileAnnotations (a choice).
        "potential_meme": _bool(root, "potentialMeme"),
        "file_annotations": _flags(root.find("fileAnnotations")),
        "industry_classification": _text(root, "industryClassification"),
        "original_file_hashes": {
            node.get("hashType"): node.text for node in root.findall("originalFileHash")
        },
        "ip_event": _ip_event(event) if event is not None else None,
        "device_ids": [_device(device) for device in root.findall("deviceId")],
        "file_details": [
            {"type": details.get("type"), "name": _text(pair, "name"), "value": _text(pair, "value")}
            for details in root.findall("details")
            for pair in details.findall("nameValuePair")
        ],
        "additional_info": _texts(root, "additionalInfo"),
    }
