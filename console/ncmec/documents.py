"""The two XML documents we send to the CyberTipline, ``report`` and ``fileDetails``, as NCMEC's XSD has them.

Plain frozen dataclasses hold the values; one small builder per XSD type writes its children in the order of
that type's ``xs:sequence`` (a wrong order is a refusal: the real service answers 1001 "Malformed (xml) report
submittal"). Every built document is then validated against NCMEC's own XSD and the documented field rules
(schema.py) before anything is sent, so a builder mistake can never reach the service.

Text is never altered: a value with a character XML cannot carry (NUL, other C0 controls, a lone surrogate) is
refused with a DocumentError naming the field. The console refuses such text where it enters (API, forms);
finding one here means old data, and a person must see it rather than have it silently cut.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import Enum

from lxml import etree

from .constants import (
    AddressType,
    AssociatedAccountType,
    DetailsType,
    FileAnnotation,
    FileRelevance,
    IncidentType,
    IndustryClassification,
    IpCaptureEventName,
    ReportAnnotation,
)


class DocumentError(ValueError):
    """A value cannot be put into the document as given; ``path`` names the element (e.g. report/reporter)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --- the values ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IpCaptureEvent:
    ip_address: str
    event_name: IpCaptureEventName | None = None  # map a platform's own name with constants.ip_event_name
    date_time: datetime | None = None
    possible_proxy: bool | None = None
    port: int | None = None


@dataclass(frozen=True)
class DeviceId:
    """The XSD's ``deviceId``: a device the user (or an upload) was seen with, e.g. IMEI, IDFA, Android ID."""

    id_type: str
    id_value: str
    event_name: IpCaptureEventName | None = None
    date_time: datetime | None = None


@dataclass(frozen=True)
class Address:
    """The XSD's ``address``: ``state`` a US state code (its ``state`` enumeration), ``country`` ISO 3166."""

    street: str | None = None  # the element is called ``address`` too
    city: str | None = None
    zip_code: str | None = None
    state: str | None = None
    non_usa_state: str | None = None
    country: str | None = None
    type: AddressType | None = None


@dataclass(frozen=True)
class Person:
    """The XSD's ``person``: used for the reporting person, a reported person, a recipient and a victim."""

    first_name: str | None = None
    last_name: str | None = None
    phones: Sequence[str] = ()
    emails: Sequence[str] = ()
    age: int | None = None
    date_of_birth: date | None = None
    addresses: Sequence[Address] = ()


@dataclass(frozen=True)
class ContactPerson:
    """The XSD's ``contactPerson``: a person without age or date of birth (e.g. a law-enforcement contact)."""

    first_name: str | None = None
    last_name: str | None = None
    phones: Sequence[str] = ()
    emails: Sequence[str] = ()
    addresses: Sequence[Address] = ()


@dataclass(frozen=True)
class EstimatedLocation:
    """Where the platform believes the user is (``estimatedLocation``); ``country_code`` is ISO 3166."""

    city: str | None = None
    region: str | None = None
    country_code: str | None = None
    verified: bool | None = None
    timestamp: datetime | None = None


@dataclass(frozen=True)
class AssociatedAccount:
    """Another account of the reported user (``associatedAccount``): the type is required by the XSD."""

    type: AssociatedAccountType
    platform: str | None = None
    third_party_user: bool | None = None  # the account is on another company's service
    first_name: str | None = None
    last_name: str | None = None
    phones: Sequence[str] = ()
    emails: Sequence[str] = ()
    esp_service: str | None = None
    esp_identifier: str | None = None
    profile_urls: Sequence[str] = ()
    screen_name: str | None = None
    display_names: Sequence[str] = ()
    group_identifier: str | None = None
    ip_capture_events: Sequence[IpCaptureEvent] = ()
    device_ids: Sequence[DeviceId] = ()
    additional_info: str | None = None


@dataclass(frozen=True)
class LawEnforcement:
    """``lawEnforcement``: the agency that asked (a law-enforcement request) or was told, and its officer."""

    agency_name: str
    case_number: str | None = None
    officer_contact: ContactPerson | None = None
    reported_to_le: bool | None = None
    served_legal_process_domestic: bool | None = None


@dataclass(frozen=True)
class IncidentSummary:
    incident_type: IncidentType
    incident_date_time: datetime
    platform: str | None = None
    # Why the report is urgent (e.g. a child in imminent danger); None means no escalation.
    escalate_to_high_priority: str | None = None
    report_annotations: Collection[ReportAnnotation] = ()
    incident_date_time_description: str | None = None


# internetDetails is an xs:choice: each item of Report.internet_details is exactly one of these kinds.


@dataclass(frozen=True)
class WebPageIncident:
    urls: Sequence[str] = ()
    additional_info: str | None = None
    third_party_hosted_content: bool | None = None
    element = "webPageIncident"


@dataclass(frozen=True)
class EmailIncident:
    email_addresses: Sequence[str] = ()
    content: str | None = None
    additional_info: str | None = None
    element = "emailIncident"


@dataclass(frozen=True)
class NewsgroupIncident:
    name: str | None = None
    email_addresses: Sequence[str] = ()
    content: str | None = None
    additional_info: str | None = None
    element = "newsgroupIncident"


@dataclass(frozen=True)
class ChatImIncident:
    chat_client: str | None = None
    chat_room_name: str | None = None
    content: str | None = None
    additional_info: str | None = None
    element = "chatImIncident"


@dataclass(frozen=True)
class OnlineGamingIncident:
    game_name: str | None = None
    console: str | None = None
    content: str | None = None
    additional_info: str | None = None
    element = "onlineGamingIncident"


@dataclass(frozen=True)
class CellPhoneIncident:
    phone_number: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    additional_info: str | None = None
    element = "cellPhoneIncident"


@dataclass(frozen=True)
class NonInternetIncident:
    location_name: str | None = None
    additional_info: str | None = None
    element = "nonInternetIncident"


@dataclass(frozen=True)
class Peer2PeerIncident:
    client: str | None = None
    ip_capture_events: Sequence[IpCaptureEvent] = ()
    file_names: str | None = None
    additional_info: str | None = None
    element = "peer2peerIncident"


Incident = (
    WebPageIncident
    | EmailIncident
    | NewsgroupIncident
    | ChatImIncident
    | OnlineGamingIncident
    | CellPhoneIncident
    | NonInternetIncident
    | Peer2PeerIncident
)


@dataclass(frozen=True)
class Reporter:
    reporting_person: Person
    contact_person: ContactPerson | None = None
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None


@dataclass(frozen=True)
class AccountDisabled:
    """``accountTemporarilyDisabled`` / ``accountPermanentlyDisabled``: true, with the dates known."""

    disabled_date: datetime | None = None
    user_notified: bool | None = None
    user_notified_date: datetime | None = None
    reenabled_date: datetime | None = None  # temporarily disabled accounts only


@dataclass(frozen=True)
class PersonOrUserReported:
    person: Person | None = None  # personOrUserReportedPerson: names, phones, emails, age
    esp_identifier: str | None = None  # the platform's own user id
    esp_service: str | None = None
    screen_name: str | None = None
    display_names: Sequence[str] = ()
    profile_urls: Sequence[str] = ()
    ip_capture_events: Sequence[IpCaptureEvent] = ()
    device_ids: Sequence[DeviceId] = ()
    # The user is on another company's service: the platform knows nothing more about them.
    third_party_user_reported: bool | None = None
    # CyberTip ids of earlier reports about this user (follow-up reports).
    prior_ct_reports: Sequence[int] = ()
    group_identifier: str | None = None
    # The platform's acknowledged account action, with the date it took effect.
    account_temporarily_disabled: AccountDisabled | None = None
    account_permanently_disabled: AccountDisabled | None = None
    estimated_location: EstimatedLocation | None = None
    # The emails given are every email the platform knows for this user.
    all_emails_reported: bool | None = None
    associated_accounts: Sequence[AssociatedAccount] = ()
    additional_info: str | None = None


@dataclass(frozen=True)
class IntendedRecipient:
    person: Person | None = None
    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_names: Sequence[str] = ()
    profile_urls: Sequence[str] = ()
    additional_info: str | None = None


@dataclass(frozen=True)
class Victim:
    person: Person  # victimPerson is required by the XSD
    esp_identifier: str | None = None
    esp_service: str | None = None
    screen_name: str | None = None
    display_names: Sequence[str] = ()
    profile_urls: Sequence[str] = ()
    school_name: str | None = None
    additional_info: str | None = None


@dataclass(frozen=True)
class Report:
    incident_summary: IncidentSummary
    reporter: Reporter
    internet_details: Sequence[Incident] = ()
    law_enforcement: LawEnforcement | None = None
    persons_or_users_reported: Sequence[PersonOrUserReported] = ()
    intended_recipients: Sequence[IntendedRecipient] = ()
    victims: Sequence[Victim] = ()
    additional_info: str | None = None


@dataclass(frozen=True)
class FileHash:
    hash_type: str  # constants.HashType for the common ones; the XSD takes any string
    value: str


@dataclass(frozen=True)
class Details:
    """A ``details`` block: name/value pairs of one kind (EXIF metadata, or hashes)."""

    type: DetailsType
    pairs: Sequence[tuple[str, str]] = field(default_factory=tuple)


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
    ip_capture_event: IpCaptureEvent | None = None  # the XSD allows one: the upload's
    device_ids: Sequence[DeviceId] = ()  # the device(s) the file was uploaded from
    details: Sequence[Details] = ()
    additional_info: str | None = None


# --- writing values -----------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry: C0 controls other than tab/newline/return, surrogates, U+FFFE/U+FFFF.
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def forbidden_characters(value: str) -> list[str]:
    """The characters of ``value`` that XML 1.0 cannot carry, as U+XXXX codes (empty when it is fine)."""
    return sorted({f"U+{ord(ch):04X}" for ch in _XML_FORBIDDEN.findall(value)})


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


def _path(node: etree._Element, name: str) -> str:
    return f"{node.getroottree().getpath(node).lstrip('/')}/{name}"


def _text(parent: etree._Element, name: str, value: object) -> etree._Element | None:
    """Append ``<name>value</name>`` when there is a value; datetimes, booleans and numbers are formatted."""
    if value is None or (isinstance(value, str) and value == ""):
        return None
    if isinstance(value, bool):
        text = format_boolean(value)
    elif isinstance(value, datetime):
        try:
            text = format_datetime(value)
        except ValueError as error:
            raise DocumentError(_path(parent, name), str(error)) from None
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, Enum):
        text = str(value.value)
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        bad = forbidden_characters(value)
        if bad:
            raise DocumentError(
                _path(parent, name), f"contains characters XML cannot carry ({', '.join(bad)})"
            )
        text = value
    else:
        raise DocumentError(_path(parent, name), f"expected text, got {type(value).__name__}")
    node = etree.SubElement(parent, name)
    node.text = text
    return node


def _texts(parent: etree._Element, name: str, values: Sequence[object]) -> None:
    if isinstance(values, str):  # a lone string is one value, not its characters
        values = [values]
    for value in values:
        _text(parent, name, value)


def _flags(parent: etree._Element, name: str, flags: Collection[Enum], kind: type[Enum]) -> None:
    """An ``xs:all`` of optional ``fixed="true"`` booleans: the present ones, as empty elements."""
    chosen = {kind(flag) for flag in flags}
    if not chosen:
        return
    node = etree.SubElement(parent, name)
    for member in kind:  # declaration order: the XSD's, though xs:all would take any
        if member in chosen:
            etree.SubElement(node, str(member.value))


def _address(parent: etree._Element, address: Address) -> None:
    node = etree.SubElement(parent, "address")
    if address.type:
        node.set("type", AddressType(address.type).value)
    _text(node, "address", address.street)
    _text(node, "city", address.city)
    _text(node, "zipCode", address.zip_code)
    _text(node, "state", address.state)
    _text(node, "nonUsaState", address.non_usa_state)
    _text(node, "country", address.country)


def _person(parent: etree._Element, name: str, person: Person | ContactPerson | None) -> None:
    if person is None:
        return
    node = etree.SubElement(parent, name)
    _text(node, "firstName", person.first_name)
    _text(node, "lastName", person.last_name)
    _texts(node, "phone", person.phones)  # phone before email: the XSD's order
    _texts(node, "email", person.emails)
    for address in person.addresses:
        _address(node, address)
    if isinstance(person, Person):
        _text(node, "age", person.age)
        _text(node, "dateOfBirth", person.date_of_birth)


def _device_id(parent: etree._Element, device: DeviceId) -> None:
    node = etree.SubElement(parent, "deviceId")
    _text(node, "idType", device.id_type)
    _text(node, "idValue", device.id_value)
    _text(node, "eventName", IpCaptureEventName(device.event_name) if device.event_name else None)
    _text(node, "dateTime", device.date_time)


def _estimated_location(parent: etree._Element, where: EstimatedLocation) -> None:
    node = etree.SubElement(parent, "estimatedLocation")
    if where.verified is not None:
        node.set("verified", format_boolean(where.verified))
    if where.timestamp is not None:
        try:
            node.set("timestamp", format_datetime(where.timestamp))
        except ValueError as error:
            raise DocumentError(_path(parent, "estimatedLocation/@timestamp"), str(error)) from None
    _text(node, "city", where.city)
    _text(node, "region", where.region)
    _text(node, "countryCode", where.country_code)


def _associated_account(parent: etree._Element, account: AssociatedAccount) -> None:
    node = etree.SubElement(parent, "associatedAccount")
    node.set("type", AssociatedAccountType(account.type).value)
    platform = _text(node, "platform", account.platform)
    if account.third_party_user is not None:
        if platform is None:
            platform = etree.SubElement(node, "platform")
        platform.set("thirdPartyUser", format_boolean(account.third_party_user))
    _text(node, "firstName", account.first_name)
    _text(node, "lastName", account.last_name)
    _texts(node, "phone", account.phones)
    _texts(node, "email", account.emails)
    _text(node, "espService", account.esp_service)
    _text(node, "espIdentifier", account.esp_identifier)
    _texts(node, "profileUrl", account.profile_urls)
    _text(node, "screenName", account.screen_name)
    _texts(node, "displayName", account.display_names)
    _text(node, "groupIdentifier", account.group_identifier)
    for event in account.ip_capture_events:
        _ip_capture_event(node, event)
    for device in account.device_ids:
        _device_id(node, device)
    _text(node, "additionalInfo", account.additional_info)


def _law_enforcement(parent: etree._Element, le: LawEnforcement) -> None:
    node = etree.SubElement(parent, "lawEnforcement")
    _text(node, "agencyName", le.agency_name)
    _text(node, "caseNumber", le.case_number)
    _person(node, "officerContact", le.officer_contact)
    _text(node, "reportedToLe", le.reported_to_le)
    _text(node, "servedLegalProcessDomestic", le.served_legal_process_domestic)


def _ip_capture_event(parent: etree._Element, event: IpCaptureEvent) -> None:
    node = etree.SubElement(parent, "ipCaptureEvent")
    _text(node, "ipAddress", event.ip_address)
    _text(node, "eventName", IpCaptureEventName(event.event_name) if event.event_name else None)
    _text(node, "dateTime", event.date_time)
    _text(node, "possibleProxy", event.possible_proxy)
    _text(node, "port", event.port)


def _incident_summary(parent: etree._Element, summary: IncidentSummary) -> None:
    node = etree.SubElement(parent, "incidentSummary")
    try:
        incident_type = IncidentType(summary.incident_type)
    except ValueError:
        raise DocumentError(
            "report/incidentSummary/incidentType", f"{summary.incident_type!r} is not an incident type"
        ) from None
    _text(node, "incidentType", incident_type)
    _text(node, "platform", summary.platform)
    _text(node, "escalateToHighPriority", summary.escalate_to_high_priority)
    _flags(node, "reportAnnotations", summary.report_annotations, ReportAnnotation)
    _text(node, "incidentDateTime", summary.incident_date_time)
    _text(node, "incidentDateTimeDescription", summary.incident_date_time_description)


def _incident(parent: etree._Element, incident: Incident) -> None:
    node = etree.SubElement(etree.SubElement(parent, "internetDetails"), incident.element)
    match incident:
        case WebPageIncident():
            if incident.third_party_hosted_content is not None:
                node.set("thirdPartyHostedContent", format_boolean(incident.third_party_hosted_content))
            _texts(node, "url", incident.urls)
        case EmailIncident():
            _texts(node, "emailAddress", incident.email_addresses)
            _text(node, "content", incident.content)
        case NewsgroupIncident():
            _text(node, "name", incident.name)
            _texts(node, "emailAddress", incident.email_addresses)
            _text(node, "content", incident.content)
        case ChatImIncident():
            _text(node, "chatClient", incident.chat_client)
            _text(node, "chatRoomName", incident.chat_room_name)
            _text(node, "content", incident.content)
        case OnlineGamingIncident():
            _text(node, "gameName", incident.game_name)
            _text(node, "console", incident.console)
            _text(node, "content", incident.content)
        case CellPhoneIncident():
            _text(node, "phoneNumber", incident.phone_number)
            _text(node, "latitude", incident.latitude)
            _text(node, "longitude", incident.longitude)
        case NonInternetIncident():
            _text(node, "locationName", incident.location_name)
        case Peer2PeerIncident():
            _text(node, "client", incident.client)
            for event in incident.ip_capture_events:
                _ip_capture_event(node, event)
            _text(node, "fileNames", incident.file_names)
        case _:
            raise DocumentError("report/internetDetails", f"unknown incident kind {type(incident).__name__}")
    _text(node, "additionalInfo", incident.additional_info)


def _reporter(parent: etree._Element, reporter: Reporter) -> None:
    node = etree.SubElement(parent, "reporter")
    _person(node, "reportingPerson", reporter.reporting_person)
    _person(node, "contactPerson", reporter.contact_person)
    _text(node, "companyTemplate", reporter.company_template)
    _text(node, "termsOfService", reporter.terms_of_service)
    _text(node, "legalURL", reporter.legal_url)


def _account(node: etree._Element, who: PersonOrUserReported | IntendedRecipient | Victim) -> None:
    """The fields the three account-like types share, in their common order up to profileUrl."""
    _text(node, "espIdentifier", who.esp_identifier)
    _text(node, "espService", who.esp_service)
    _text(node, "screenName", who.screen_name)
    _texts(node, "displayName", who.display_names)
    _texts(node, "profileUrl", who.profile_urls)


def _attribute(node: etree._Element, name: str, value: datetime | bool | None) -> None:
    if value is None:
        return
    try:
        node.set(name, format_boolean(value) if isinstance(value, bool) else format_datetime(value))
    except ValueError as error:
        raise DocumentError(f"{_path(node.getparent(), node.tag)}@{name}", str(error)) from None


def _account_disabled(parent: etree._Element, name: str, status: AccountDisabled | None) -> None:
    """``true`` with the dates as attributes (the XSD: a boolean extended with attributes)."""
    if status is None:
        return
    node = _text(parent, name, True)
    _attribute(node, "disabledDate", status.disabled_date)
    _attribute(node, "userNotified", status.user_notified)
    _attribute(node, "userNotifiedDate", status.user_notified_date)
    if name == "accountTemporarilyDisabled":
        _attribute(node, "reenabledDate", status.reenabled_date)


def _person_or_user_reported(parent: etree._Element, user: PersonOrUserReported) -> None:
    node = etree.SubElement(parent, "personOrUserReported")
    _person(node, "personOrUserReportedPerson", user.person)
    _account(node, user)
    for event in user.ip_capture_events:
        _ip_capture_event(node, event)
    for device in user.device_ids:
        _device_id(node, device)
    _text(node, "thirdPartyUserReported", user.third_party_user_reported)
    _texts(node, "priorCTReports", [int(tip) for tip in user.prior_ct_reports])
    _text(node, "groupIdentifier", user.group_identifier)
    _account_disabled(node, "accountTemporarilyDisabled", user.account_temporarily_disabled)
    _account_disabled(node, "accountPermanentlyDisabled", user.account_permanently_disabled)
    if user.estimated_location is not None:
        _estimated_location(node, user.estimated_location)
    _text(node, "allEmailsReported", user.all_emails_reported)
    for account in user.associated_accounts:
        _associated_account(node, account)
    _text(node, "additionalInfo", user.additional_info)


def _intended_recipient(parent: etree._Element, recipient: IntendedRecipient) -> None:
    node = etree.SubElement(parent, "intendedRecipient")
    _person(node, "intendedRecipientPerson", recipient.person)
    _account(node, recipient)
    _text(node, "additionalInfo", recipient.additional_info)


def _victim(parent: etree._Element, victim: Victim) -> None:
    node = etree.SubElement(parent, "victim")
    _person(node, "victimPerson", victim.person)
    _account(node, victim)
    _text(node, "schoolName", victim.school_name)
    _text(node, "additionalInfo", victim.additional_info)


def report_element(report: Report) -> etree._Element:
    root = etree.Element("report")
    _incident_summary(root, report.incident_summary)
    for incident in report.internet_details:
        _incident(root, incident)
    if report.law_enforcement is not None:
        _law_enforcement(root, report.law_enforcement)
    _reporter(root, report.reporter)
    for user in report.persons_or_users_reported:
        _person_or_user_reported(root, user)
    for recipient in report.intended_recipients:
        _intended_recipient(root, recipient)
    for victim in report.victims:
        _victim(root, victim)
    _text(root, "additionalInfo", report.additional_info)
    return root


def file_details_element(details: FileDetails) -> etree._Element:
    relevance = FileRelevance(details.file_relevance) if details.file_relevance else None
    if details.industry_classification and relevance != FileRelevance.REPORTED:
        # NCMEC's documentation: the industry classification describes reported imagery only.
        raise DocumentError(
            "fileDetails/industryClassification", "only a file whose relevance is Reported can be classified"
        )
    root = etree.Element("fileDetails")
    _text(root, "reportId", details.report_id)
    _text(root, "fileId", details.file_id)
    _text(root, "fileName", details.file_name)
    _text(root, "originalFileName", details.original_file_name)
    _text(root, "uploadedToEspTimestamp", details.uploaded_to_esp_timestamp)
    _text(root, "locationOfFile", details.location_of_file)
    _text(root, "fileViewedByEsp", details.file_viewed_by_esp)
    _text(root, "exifViewedByEsp", details.exif_viewed_by_esp)
    _text(root, "publiclyAvailable", details.publicly_available)
    _text(root, "fileRelevance", relevance)
    _flags(root, "fileAnnotations", details.file_annotations, FileAnnotation)
    _text(
        root,
        "industryClassification",
        IndustryClassification(details.industry_classification) if details.industry_classification else None,
    )
    for file_hash in details.original_file_hashes:
        node = _text(root, "originalFileHash", file_hash.value)
        if node is not None:
            node.set("hashType", str(getattr(file_hash.hash_type, "value", file_hash.hash_type)))
    if details.ip_capture_event is not None:
        _ip_capture_event(root, details.ip_capture_event)
    for device in details.device_ids:
        _device_id(root, device)
    for block in details.details:
        node = etree.SubElement(root, "details")
        node.set("type", DetailsType(block.type).value)
        for name, value in block.pairs:
            pair = etree.SubElement(node, "nameValuePair")
            _text(pair, "name", name)
            _text(pair, "value", value)
    _text(root, "additionalInfo", details.additional_info)
    return root


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_report_xml(report: Report) -> bytes:
    """The ``report`` document for ``/submit``, UTF-8 with an XML declaration (not yet validated)."""
    return _serialise(report_element(report))


def build_file_details_xml(details: FileDetails) -> bytes:
    """The ``fileDetails`` document for ``/fileinfo``, UTF-8 with an XML declaration (not yet validated)."""
    return _serialise(file_details_element(details))


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
