"""The documents sent to NCMEC for a report, built from what was frozen when the report was created.

The ``report`` XML comes from the report's payload (and its contact) only, never from the case as it is now:
a case edited after the decision does not change what is sent. Each uploaded file is described by its own
``fileDetails`` document, which carries the file's real name (the upload itself never does).
"""

from __future__ import annotations

from datetime import date, datetime

from console.ncmec import (
    AccountDisabled,
    AssociatedAccount,
    CellPhoneIncident,
    ChatImIncident,
    ContactPerson,
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


def _ip_event(event: dict) -> IpCaptureEvent:
    port = event.get("port")
    return IpCaptureEvent(
        ip_address=event["ip"],
        # The platform's own event name stays in the case; NCMEC takes its enumeration only (else Other).
        event_name=ip_event_name(event.get("event")),
        date_time=datetime.fromisoformat(event["at"]) if event.get("at") else None,
        port=int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else None,
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


def _internet_details(p: dict) -> list:
    """The one ``internetDetails`` element of the case's content kind (none when the kind is not known).

    The content URL goes in a web page's ``url``; with another kind it is named in that kind's
    additionalInfo, so that the element sent says what kind of place it was.
    """
    where = p.get("internet_details") or {}
    kind, f = where.get("kind") or "", where.get("fields") or {}
    url = p.get("content_url") or ""
    info = "\n".join(x for x in (f.get("additional_info"), f"Content URL: {url}" if url else "") if x) or None
    messages = p.get("thread") or []
    match kind:
        case "web_page":
            return [
                WebPageIncident(urls=[url] if url else (), additional_info=f.get("additional_info") or None)
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
    return [WebPageIncident(urls=[url])] if url else []


def _account(who: dict) -> dict:
    """The account fields the intended recipient and the victim share with the reported user."""
    return {
        "esp_identifier": who.get("platform_id") or None,
        "screen_name": who.get("screen_name") or None,
        "display_names": [who["name"]] if who.get("name") else (),
        "profile_urls": [who["profile_url"]] if who.get("profile_url") else (),
    }


def _intended_recipients(p: dict) -> list[IntendedRecipient]:
    who = p.get("intended_recipient") or {}
    if not who:
        return []
    return [IntendedRecipient(person=_person(who), **_account(who))]


def _victims(p: dict) -> list[Victim]:
    who = p.get("victim") or {}
    if not who:
        return []
    # victimPerson is required by the XSD, even when only the account is known.
    return [
        Victim(person=_person(who) or Person(), school_name=who.get("school_name") or None, **_account(who))
    ]


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _account_status(user: dict) -> dict:
    """accountPermanentlyDisabled / accountTemporarilyDisabled, as the platform acknowledged it."""
    status = user.get("account_status") or {}
    kind = status.get("kind")
    if kind not in ("permanent", "temporary"):
        return {}
    name = "account_permanently_disabled" if kind == "permanent" else "account_temporarily_disabled"
    return {name: AccountDisabled(disabled_date=_moment(status.get("at")))}


def _enriched_user(enriched: dict) -> dict:
    """The platform's answer about the user (console/webhooks/enrichment.py checked it) as NCMEC's fields."""
    where = enriched.get("estimated_location") or {}
    return {
        "device_ids": [
            DeviceId(d["type"], d["value"], date_time=_moment(d.get("at")))
            for d in enriched.get("device_ids") or []
        ],
        "estimated_location": EstimatedLocation(
            city=where.get("city") or None,
            region=where.get("region") or None,
            country_code=where.get("country_code") or None,
            verified=where.get("verified"),
            timestamp=_moment(where.get("at")),
        )
        if where
        else None,
        "associated_accounts": [
            AssociatedAccount(
                a.get("type") or "Other",
                platform=a.get("platform") or None,
                esp_identifier=a.get("platform_id") or None,
                screen_name=a.get("screen_name") or None,
                emails=[a["email"]] if a.get("email") else (),
            )
            for a in enriched.get("associated_accounts") or []
        ],
    }


def report_document(report: ExternalReport) -> bytes:
    """The ``report`` XML, built from the payload frozen when the report was created (and nothing else)."""
    p = report.payload
    user = p.get("reported_user") or {}
    enriched = (p.get("platform") or {}).get("reported_user") or {}
    emails = list(
        dict.fromkeys([*([user["email"]] if user.get("email") else []), *enriched.get("emails", [])])
    )
    phones = enriched.get("phones") or []
    person = Person(emails=emails, phones=phones) if emails or phones else None
    prior = details.cybertip_ids(p.get("prior_ct_reports") or [])
    events = [*(user.get("ip_events") or []), *enriched.get("ip_events", [])]
    created = enriched.get("created_at")
    reported = PersonOrUserReported(
        person=person,
        esp_identifier=user.get("platform_id") or None,
        screen_name=user.get("screen_name") or None,
        display_names=[user["name"]] if user.get("name") else (),
        profile_urls=[user["profile_url"]] if user.get("profile_url") else (),
        ip_capture_events=[_ip_event(ev) for ev in events if ev.get("ip")],
        prior_ct_reports=prior,
        additional_info=f"Account created on the platform: {created}" if created else None,
        **_account_status(user),
        **_enriched_user(enriched),
    )
    info = [
        f"Moderation console case #{p['case_id']}" + (f", policy: {p['policy']}" if p.get("policy") else "")
    ]
    if p.get("content_id"):
        info.append(f"Platform content id: {p['content_id']}")
    if p.get("text"):
        info.append("Content text:\n" + p["text"])
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
    if p.get("thread"):
        info.append(
            f"The message thread ({len(p['thread'])} messages) is attached as a Supplemental Reported file."
        )
    has_user = any(user.get(k) for k in ("platform_id", "email", "name", "screen_name", "profile_url"))
    has_user = has_user or bool(user.get("account_status"))
    doc = Report(
        incident_summary=IncidentSummary(
            incident_type=IncidentType(report.incident_type),
            # A platform clock a little ahead of ours must not make the time "in the future" for NCMEC.
            incident_date_time=min(datetime.fromisoformat(p["incident_at"]), utcnow()),
            escalate_to_high_priority=p.get("escalate") or None,
            report_annotations=[ReportAnnotation(a) for a in p.get("report_annotations") or []],
        ),
        internet_details=_internet_details(p),
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
    # The platform's answer about this file (enrichment): when it was uploaded, and from where.
    upload = ((report.payload or {}).get("platform") or {}).get("files", {}).get(f.sha256) or {}
    reported = relevance == FileRelevance.REPORTED
    extra = [FileHash(h["type"], h["value"]) for h in f.hashes or [] if h.get("type") and h.get("value")]
    return build_file_details_xml(
        FileDetails(
            report_id=report.ncmec_report_id,
            file_id=f.ncmec_file_id,
            file_viewed_by_esp=f.viewed_by_esp,
            original_file_name=f.original_name,
            exif_viewed_by_esp=f.exif_viewed_by_esp,
            file_relevance=relevance,
            file_annotations=[FileAnnotation(a) for a in f.annotations or []],
            # The industry classification describes reported imagery only (NCMEC's documentation).
            industry_classification=IndustryClassification(f.industry_classification)
            if f.industry_classification and reported
            else None,
            original_file_hashes=[FileHash(HashType.SHA256, f.sha256), FileHash(HashType.MD5, f.md5), *extra],
            uploaded_to_esp_timestamp=_moment(upload.get("uploaded_at")),
            ip_capture_event=IpCaptureEvent(upload["ip"], event_name=ip_event_name("Upload"))
            if upload.get("ip")
            else None,
            additional_info=None
            if f.media_id or reported
            else "Generated by the moderation console from the case's message thread when the report was "
            "created; the thread's attachments are the report's other files.",
        )
    )
