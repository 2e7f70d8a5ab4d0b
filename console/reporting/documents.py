"""The documents sent to NCMEC for a report, built from what was frozen when the report was created.

The ``report`` XML comes from the report's payload (and its contact) only, never from the case as it is now:
a case edited after the decision does not change what is sent. Each uploaded file is described by its own
``fileDetails`` document, which carries the file's real name (the upload itself never does).
"""

from __future__ import annotations

from datetime import datetime

from console.ncmec import (
    FileDetails,
    FileHash,
    FileRelevance,
    HashType,
    IncidentSummary,
    IncidentType,
    IndustryClassification,
    IpCaptureEvent,
    Person,
    PersonOrUserReported,
    Report,
    Reporter,
    WebPageIncident,
    build_file_details_xml,
    build_report_xml,
    ip_event_name,
)
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


def report_document(report: ExternalReport) -> bytes:
    """The ``report`` XML, built from the payload frozen when the report was created (and nothing else)."""
    p = report.payload
    user = p.get("reported_user") or {}
    # Earlier CyberTips whose content this one matches (a re-upload the hash bank recognised).
    prior = [int(tip) for tip in p.get("prior_ct_reports") or [] if str(tip).isdigit()]
    person = Person(emails=[user["email"]]) if user.get("email") else None
    reported = PersonOrUserReported(
        person=person,
        esp_identifier=user.get("platform_id") or None,
        screen_name=user.get("screen_name") or None,
        display_names=[user["name"]] if user.get("name") else (),
        profile_urls=[user["profile_url"]] if user.get("profile_url") else (),
        ip_capture_events=[_ip_event(ev) for ev in user.get("ip_events") or [] if ev.get("ip")],
        prior_ct_reports=prior,
    )
    info = [
        f"Moderation console case #{p['case_id']}" + (f", policy: {p['policy']}" if p.get("policy") else "")
    ]
    if p.get("content_id"):
        info.append(f"Platform content id: {p['content_id']}")
    if p.get("text"):
        info.append("Content text:\n" + p["text"])
    if prior:
        info.append(
            "This content matches content reported in CyberTipline report(s) "
            + ", ".join(str(tip) for tip in prior)
            + " (recognised by file hash or PDQ perceptual hash)."
        )
    has_user = any(user.get(k) for k in ("platform_id", "email", "name", "screen_name", "profile_url"))
    doc = Report(
        incident_summary=IncidentSummary(
            incident_type=IncidentType(report.incident_type),
            # A platform clock a little ahead of ours must not make the time "in the future" for NCMEC.
            incident_date_time=min(datetime.fromisoformat(p["incident_at"]), utcnow()),
            escalate_to_high_priority=p.get("escalate") or None,
        ),
        internet_details=[WebPageIncident(urls=[p["content_url"]])] if p.get("content_url") else [],
        reporter=Reporter(
            Person(
                first_name=report.contact_first_name,
                last_name=report.contact_last_name,
                emails=[report.contact_email],
            )
        ),
        persons_or_users_reported=[reported] if has_user or prior else [],
        additional_info="\n\n".join(info),
    )
    return build_report_xml(doc)


def file_document(report: ExternalReport, f: ReportFile) -> bytes:
    """The ``fileDetails`` XML for one uploaded file: the real file name goes here, never in the upload."""
    return build_file_details_xml(
        FileDetails(
            report_id=report.ncmec_report_id,
            file_id=f.ncmec_file_id,
            file_viewed_by_esp=f.viewed_by_esp,
            original_file_name=f.original_name,
            exif_viewed_by_esp=f.exif_viewed_by_esp,
            file_relevance=FileRelevance.REPORTED,
            industry_classification=IndustryClassification(f.industry_classification)
            if f.industry_classification
            else None,
            original_file_hashes=[FileHash(HashType.SHA256, f.sha256), FileHash(HashType.MD5, f.md5)],
        )
    )
