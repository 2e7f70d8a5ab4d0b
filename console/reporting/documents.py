"""The documents sent to NCMEC for a report, built from what was frozen when the report was created.

The ``report`` XML comes from the report's payload (and its contact) only, never from the case as it is now:
a case edited after the decision does not change what is sent. Each uploaded file is described by its own
``fileDetails`` document, which carries the file's real name (the upload itself never does).

Why this module is long (about 440 lines): it is the one translation from the frozen payload to NCMEC's
document types — every section of a report (the reported user's person, devices, location and other
accounts; law enforcement; each content's place; people; each file's details) — and one reader must find
each element's source beside the others, in the XSD's order.
"""

from __future__ import annotations

from datetime import date, datetime

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
    EmailIncident,
    EstimatedLocation,
    FileAnnotation,
    FileDetails,
    FileHash,
    FileRelevance,
    HashType,
    IncidentSummary,
    IncidentType,
    IndustryClassification,
    IntendedRecipient,
    IpCaptureEvent,
    LawEnforcement,
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
    ip_event_name,
)
from console.reporting import details, transcript
from console.reporting.models import ExternalReport, ReportFile
from console.timeutil import utcnow


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _ip_event(event: dict) -> IpCaptureEvent:
    port = event.get("port")
    return IpCaptureEvent(
        ip_address=event["ip"],
        # The platform's own event name stays in the case; NCMEC takes its enumeration only (else Other).
        event_name=ip_event_name(event.get("event")),
        date_time=_moment(event.get("at")),
        port=int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else None,
    )


def _device(device: dict) -> DeviceId:
    return DeviceId(
        id_type=device["type"],
        id_value=device["value"],
        event_name=ip_event_name(device.get("event")),
        date_time=_moment(device.get("at")),
    )


def _address(a: dict) -> Address:
    return Address(
        street=a.get("street") or None,
        city=a.get("city") or None,
        zip_code=a.get("zip_code") or None,
        state=a.get("state") or None,
        non_usa_state=a.get("non_usa_state") or None,
        country=a.get("country") or None,
        type=AddressType(a["type"]) if a.get("type") else None,
    )


def _estimated_location(where: dict) -> EstimatedLocation | None:
    if not where:
        return None
    return EstimatedLocation(
        city=where.get("city") or None,
        region=where.get("region") or None,
        country_code=where.get("country_code") or None,
        verified=where.get("verified"),
        timestamp=_moment(where.get("at")),
    )


def _associated_account(a: dict) -> AssociatedAccount:
    return AssociatedAccount(
        type=AssociatedAccountType(a["type"]),
        platform=a.get("platform") or None,
        third_party_user=a.get("third_party"),
        first_name=a.get("first_name") or None,
        last_name=a.get("last_name") or None,
        phones=a.get("phones") or (),
        emails=a.get("emails") or (),
        esp_service=a.get("service") or None,
        esp_identifier=a.get("platform_id") or None,
        profile_urls=[a["profile_url"]] if a.get("profile_url") else (),
        screen_name=a.get("screen_name") or None,
        display_names=[a["name"]] if a.get("name") else (),
        group_identifier=a.get("group_identifier") or None,
    )


def _law_enforcement(p: dict) -> LawEnforcement | None:
    le = p.get("law_enforcement") or {}
    if not le.get("agency_name"):
        return None
    officer = le.get("officer") or {}
    contact = ContactPerson(
        first_name=officer.get("first_name") or None,
        last_name=officer.get("last_name") or None,
        phones=[officer["phone"]] if officer.get("phone") else (),
        emails=[officer["email"]] if officer.get("email") else (),
    )
    return LawEnforcement(
        agency_name=le["agency_name"],
        case_number=le.get("case_number") or None,
        officer_contact=contact if contact != ContactPerson() else None,
        reported_to_le=le.get("reported_to_le"),
        served_legal_process_domestic=le.get("served_legal_process"),
    )


def _reported_person(user: dict) -> Person | None:
    """personOrUserReportedPerson: the account's email, and the person the platform knows behind it."""
    d = user.get("details") or {}
    emails = list(dict.fromkeys(e for e in [user.get("email"), *(d.get("emails") or [])] if e))
    person = Person(
        first_name=d.get("first_name") or None,
        last_name=d.get("last_name") or None,
        phones=d.get("phones") or (),
        emails=emails,
        addresses=[_address(a) for a in d.get("addresses") or []],
        age=d.get("age"),
        date_of_birth=date.fromisoformat(d["date_of_birth"]) if d.get("date_of_birth") else None,
    )
    return person if person != Person() else None


def _reported_user(user: dict, prior: list[int], created: str | None = None) -> PersonOrUserReported:
    d = user.get("details") or {}
    return PersonOrUserReported(
        person=_reported_person(user),
        esp_identifier=user.get("platform_id") or None,
        screen_name=user.get("screen_name") or None,
        display_names=[user["name"]] if user.get("name") else (),
        profile_urls=[user["profile_url"]] if user.get("profile_url") else (),
        ip_capture_events=[_ip_event(ev) for ev in user.get("ip_events") or [] if ev.get("ip")],
        device_ids=[_device(dev) for dev in d.get("device_ids") or []],
        third_party_user_reported=d.get("third_party_user"),
        prior_ct_reports=prior,
        group_identifier=d.get("group_identifier") or None,
        # The platform's acknowledged account action (accountTemporarilyDisabled / …PermanentlyDisabled).
        **_account_status(user),
        estimated_location=_estimated_location(d.get("estimated_location") or {}),
        all_emails_reported=d.get("all_emails_reported"),
        associated_accounts=[_associated_account(a) for a in d.get("associated_accounts") or []],
        # NCMEC has no element for the account's creation: said in words.
        additional_info=f"Account created on the platform: {created}" if created else None,
    )


def _person(who: dict) -> Person | None:
    """A person from the payload's {first_name, last_name, email, phone, age, date_of_birth}, or None."""
    person = Person(
        first_name=who.get("first_name") or None,
        last_name=who.get("last_name") or None,
        phones=[who["phone"]] if who.get("phone") else (),
        emails=[who["email"]] if who.get("email") else (),
        age=who.get("age"),
        date_of_birth=date.fromisoformat(who["date_of_birth"]) if who.get("date_of_birth") else None,
    )
    return person if person != Person() else None


def _reporter(report: ExternalReport, p: dict) -> Reporter:
    r = p.get("reporter") or {}
    contact = r.get("contact_person") or {}
    contact_person = ContactPerson(
        first_name=contact.get("first_name") or None,
        last_name=contact.get("last_name") or None,
        phones=[contact["phone"]] if contact.get("phone") else (),
        emails=[contact["email"]] if contact.get("email") else (),
    )
    return Reporter(
        Person(
            first_name=report.contact_first_name,
            last_name=report.contact_last_name,
            phones=[r["phone"]] if r.get("phone") else (),
            emails=[report.contact_email],
        ),
        contact_person=contact_person if contact_person != ContactPerson() else None,
        company_template=r.get("company_template") or None,
        terms_of_service=r.get("terms_of_service") or None,
        legal_url=r.get("legal_url") or None,
    )


def _lines(*parts: str | None) -> str | None:
    return "\n".join(x for x in parts if x) or None


def _internet_details(p: dict, label: str | None = None) -> list:
    """The one ``internetDetails`` element of a content's kind (none when the kind is not known).

    The content URL goes in a web page's ``url``; with another kind it is named in that kind's
    additionalInfo, so that the element sent says what kind of place it was. ``label`` (a report about
    several contents) opens its additionalInfo: which content of the report the element is about.
    """
    where = p.get("internet_details") or {}
    kind, f = where.get("kind") or "", where.get("fields") or {}
    url = p.get("content_url") or ""
    info = _lines(label, f.get("additional_info"), f"Content URL: {url}" if url else "")
    messages = p.get("thread") or []
    match kind:
        case "web_page":
            return [
                WebPageIncident(
                    urls=[url] if url else (), additional_info=_lines(label, f.get("additional_info"))
                )
            ]
        case "chat":
            return [
                ChatImIncident(
                    chat_client=f.get("chat_service") or None,
                    chat_room_name=f.get("chat_room") or None,
                    content=transcript.content(messages) or None,
                    additional_info=info,
                )
            ]
        case "email":
            return [EmailIncident(email_addresses=f.get("email_addresses") or (), additional_info=info)]
        case "online_game":
            return [
                OnlineGamingIncident(
                    game_name=f.get("game_name") or None,
                    console=f.get("console") or None,
                    additional_info=info,
                )
            ]
        case "p2p":
            return [
                Peer2PeerIncident(
                    client=f.get("client") or None,
                    file_names=f.get("file_names") or None,
                    additional_info=info,
                )
            ]
        case "phone":
            return [CellPhoneIncident(phone_number=f.get("phone_number") or None, additional_info=info)]
        case "non_internet":
            return [NonInternetIncident(location_name=f.get("location_name") or None, additional_info=info)]
    # A payload from before content kinds (or a case of no stated kind): the URL, as a web page.
    return [WebPageIncident(urls=[url], additional_info=label)] if url else []


def contents_of(p: dict) -> list[dict]:
    """The contents a payload is about: its ``contents`` (several, one incident), else the payload itself."""
    return p.get("contents") or [p]


def _content_label(c: dict, k: int, n: int) -> str:
    return f"Content {k} of {n}: moderation console case #{c['case_id']}" + (
        f", platform content id {c['content_id']}" if c.get("content_id") else ""
    )


def _unique(items: list) -> list:
    out: list = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def _account(who: dict) -> dict:
    """The account fields the intended recipient and the victim share with the reported user."""
    return {
        "esp_identifier": who.get("platform_id") or None,
        "screen_name": who.get("screen_name") or None,
        "display_names": [who["name"]] if who.get("name") else (),
        "profile_urls": [who["profile_url"]] if who.get("profile_url") else (),
    }


def _intended_recipients(p: dict) -> list[IntendedRecipient]:
    found = _unique([c["intended_recipient"] for c in contents_of(p) if c.get("intended_recipient")])
    return [IntendedRecipient(person=_person(who), **_account(who)) for who in found]


def _victims(p: dict) -> list[Victim]:
    found = _unique([c["victim"] for c in contents_of(p) if c.get("victim")])
    # victimPerson is required by the XSD, even when only the account is known.
    return [
        Victim(person=_person(who) or Person(), school_name=who.get("school_name") or None, **_account(who))
        for who in found
    ]


def _account_status(user: dict) -> dict:
    """accountPermanentlyDisabled / accountTemporarilyDisabled, as the platform acknowledged it."""
    status = user.get("account_status") or {}
    kind = status.get("kind")
    if kind not in ("permanent", "temporary"):
        return {}
    name = "account_permanently_disabled" if kind == "permanent" else "account_temporarily_disabled"
    return {name: AccountDisabled(disabled_date=_moment(status.get("at")))}


LIST_DETAILS = ("phones", "emails", "addresses", "device_ids", "associated_accounts")


def _with_platform(user: dict, platform: dict) -> dict:
    """The reported user as frozen, completed by what the platform answered before the freeze (enrichment,
    console/webhooks/enrichment.py, checked by the API's rules into the same shape): lists joined without
    repeats; a value the case already had is kept over the platform's."""
    extra = platform.get("reported_user") or {}
    if not extra:
        return user
    mine, theirs = user.get("details") or {}, extra.get("details") or {}
    merged = {**theirs, **{k: v for k, v in mine.items() if v not in (None, "", [], {})}}
    for key in LIST_DETAILS:
        joined = _unique([*(mine.get(key) or []), *(theirs.get(key) or [])])
        if joined:
            merged[key] = joined
    events = _unique([*(user.get("ip_events") or []), *(extra.get("ip_events") or [])])
    return {**user, "ip_events": events, "details": merged}


def _content_info(c: dict, heading: str) -> str:
    """What the report's additionalInfo says of one content: the case, its id, its text, its thread."""
    lines = [heading + (f", policy: {c['policy']}" if c.get("policy") else "")]
    if c.get("content_id"):
        lines.append(f"Platform content id: {c['content_id']}")
    if c.get("text"):
        lines.append("Content text:\n" + c["text"])
    if c.get("thread"):
        lines.append(
            f"The message thread ({len(c['thread'])} messages) is attached as a Supplemental Reported file."
        )
    return "\n\n".join(lines)


def report_document(report: ExternalReport) -> bytes:
    """The ``report`` XML, built from the payload frozen when the report was created (and nothing else)."""
    p = report.payload
    platform = p.get("platform") or {}
    user = _with_platform(p.get("reported_user") or {}, platform)
    prior = details.cybertip_ids(p.get("prior_ct_reports") or [])
    reported = _reported_user(user, prior, created=(platform.get("reported_user") or {}).get("created_at"))
    contents = contents_of(p)
    n = len(contents)
    if n == 1:
        info = [_content_info(p, f"Moderation console case #{p['case_id']}")]
        places = _internet_details(p)
    else:
        # One incident, several contents: each with its place (internetDetails) and files, labelled alike.
        cases = ", ".join(f"#{c['case_id']}" for c in contents)
        info = [f"Moderation console cases {cases}: one incident, {n} contents of the reported user."]
        info += [_content_info(c, _content_label(c, k, n)) for k, c in enumerate(contents, 1)]
        places = [
            el for k, c in enumerate(contents, 1) for el in _internet_details(c, _content_label(c, k, n))
        ]
    of_user = {int(t) for t in p.get("prior_ct_of_user") or [] if str(t).isdigit()}
    if of_user:
        info.append(
            "The reported user was reported before, in CyberTipline report(s) "
            + ", ".join(str(tip) for tip in prior if tip in of_user)
            + "."
        )
    matched = [tip for tip in prior if tip not in of_user]
    if matched:
        info.append(
            "This content matches content reported in CyberTipline report(s) "
            + ", ".join(str(tip) for tip in matched)
            + " (recognised by file hash or PDQ perceptual hash)."
        )
    has_user = any(
        user.get(k) for k in ("platform_id", "email", "name", "screen_name", "profile_url", "details")
    )
    has_user = has_user or bool(user.get("account_status"))
    doc = Report(
        incident_summary=IncidentSummary(
            incident_type=IncidentType(report.incident_type),
            # A platform clock a little ahead of ours must not make the time "in the future" for NCMEC.
            incident_date_time=min(datetime.fromisoformat(p["incident_at"]), utcnow()),
            escalate_to_high_priority=p.get("escalate") or None,
            report_annotations=[ReportAnnotation(a) for a in p.get("report_annotations") or []],
            incident_date_time_description=p.get("incident_time_description") or None,
        ),
        internet_details=places,
        law_enforcement=_law_enforcement(p),
        reporter=_reporter(report, p),
        persons_or_users_reported=[reported] if has_user or prior else [],
        intended_recipients=_intended_recipients(p),
        victims=_victims(p),
        additional_info="\n\n".join(info),
    )
    return build_report_xml(doc)


def file_document(report: ExternalReport, f: ReportFile) -> bytes:
    """The ``fileDetails`` XML for one uploaded file: the real file name goes here, never in the upload."""
    relevance = FileRelevance(f.relevance or FileRelevance.REPORTED.value)
    # What the platform answered about this file before the freeze (enrichment) fills what the case lacks.
    upload = ((report.payload or {}).get("platform") or {}).get("files", {}).get(f.sha256) or {}
    reported = relevance == FileRelevance.REPORTED
    extra = [FileHash(h["type"], h["value"]) for h in f.hashes or [] if h.get("type") and h.get("value")]
    kept = {**upload, **(f.details or {})}
    upload_ip = kept.get("upload_ip") or {}
    return build_file_details_xml(
        FileDetails(
            report_id=report.ncmec_report_id,
            file_id=f.ncmec_file_id,
            file_viewed_by_esp=f.viewed_by_esp,
            file_name=kept.get("file_name") or None,
            original_file_name=f.original_name,
            uploaded_to_esp_timestamp=_moment(kept.get("uploaded_at")),
            location_of_file=kept.get("location") or None,
            exif_viewed_by_esp=f.exif_viewed_by_esp,
            publicly_available=kept.get("publicly_available"),
            file_relevance=relevance,
            file_annotations=[FileAnnotation(a) for a in f.annotations or []],
            # The industry classification describes reported imagery only (NCMEC's documentation).
            industry_classification=IndustryClassification(f.industry_classification)
            if f.industry_classification and reported
            else None,
            original_file_hashes=[FileHash(HashType.SHA256, f.sha256), FileHash(HashType.MD5, f.md5), *extra],
            ip_capture_event=_ip_event(upload_ip) if upload_ip.get("ip") else None,
            device_ids=[_device(dev) for dev in kept.get("device_ids") or []],
            details=_metadata(kept.get("details") or []),
            additional_info=_lines(
                _file_content_label(report.payload or {}, f),
                None
                if f.media_id or reported
                else "Generated by the moderation console from the case's message thread when the report was "
                "created; the thread's attachments are the report's other files.",
            ),
        )
    )


def _file_content_label(p: dict, f: ReportFile) -> str | None:
    """In a report about several contents, which content a file belongs to (and where it was)."""
    contents = p.get("contents") or []
    for k, c in enumerate(contents, 1):
        if c.get("case_id") == f.case_id:
            url = c.get("content_url")
            return _content_label(c, k, len(contents)) + (f", content URL {url}" if url else "")
    return None


def _metadata(pairs: list[dict]) -> list[Details]:
    """The platform's name/value pairs, one ``details`` block per type (EXIF, HASH), in the order kept."""
    by_type: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        by_type.setdefault(pair.get("type") or DetailsType.EXIF.value, []).append(
            (pair["name"], pair["value"])
        )
    return [Details(DetailsType(kind), tuple(values)) for kind, values in by_type.items()]
