"""Creating a report: what will be sent, frozen at creation, and the one-report-per-content guard.

A report row is created in the same transaction as the decision that caused it (or the moderator's
"Submit report"); the RQ job that files it is enqueued only after that commit. The partial UNIQUE index on
(agency, fingerprint) over live rows makes a second live report for the same content impossible, whatever
races or retries happen in front of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, union
from sqlalchemy.exc import IntegrityError

from console import audit
from console.cases.models import Case
from console.extensions import db
from console.media.models import MediaView
from console.ncmec import (
    FileDetails,
    FileHash,
    FileRelevance,
    HashType,
    IncidentSummary,
    IncidentType,
    IndustryClassification,
    InternetDetails,
    IpCaptureEvent,
    PersonOrUserReported,
    PersonOrUserReportedPerson,
    Report,
    Reporter,
    ReportingPerson,
    WebPageIncident,
    build_file_details_xml,
    build_report_xml,
)
from console.reporting.models import ExternalReport, ReportFile, ReportingRule
from console.timeutil import utcnow


class ReportingError(ValueError):
    """A report cannot be created as asked (the message says why, for the person who asked)."""


def normalise_url(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def fingerprint(case: Case) -> str:
    """What makes two cases "the same content" for NCMEC.

    Media: the SHA-256 of the bytes (of the sorted set of files, when there are several). Without media: the
    normalised content URL, else the platform's content id, else the case itself.
    """
    hashes = sorted({m.sha256 for m in case.media})
    if len(hashes) == 1:
        return "sha256:" + hashes[0]
    if hashes:
        return "sha256-set:" + hashlib.sha256("\n".join(hashes).encode()).hexdigest()
    if case.content_url:
        return "url:" + hashlib.sha256(normalise_url(case.content_url).encode()).hexdigest()
    if case.content_id:
        return "content:" + hashlib.sha256(case.content_id.encode()).hexdigest()
    return f"case:{case.id}"


def existing_report_for(case: Case, agency_id: int) -> ExternalReport | None:
    """A live report for the same content: same fingerprint, any same file, the same URL or content id.

    One indexed lookup per kind of sameness, united: an OR across them would make the database scan every
    report (this runs on every case page).
    """
    fingerprints = {fingerprint(case)}
    if case.content_url:
        fingerprints.add("url:" + hashlib.sha256(normalise_url(case.content_url).encode()).hexdigest())
    branches = [
        select(ExternalReport.id).where(
            ExternalReport.agency_id == agency_id,
            ExternalReport.live,  # as the partial unique index states it, so it is used
            ExternalReport.fingerprint.in_(sorted(fingerprints)),
        )
    ]
    hashes = sorted({m.sha256 for m in case.media})
    if hashes:
        branches.append(select(ReportFile.report_id).where(ReportFile.sha256.in_(hashes)))
    if case.content_id:
        branches.append(
            select(ExternalReport.id)
            .join(Case, Case.id == ExternalReport.case_id)
            .where(Case.content_id == case.content_id)
        )
    return db.session.scalar(
        select(ExternalReport)
        .where(
            ExternalReport.id.in_(union(*branches).scalar_subquery()),
            ExternalReport.agency_id == agency_id,
            ExternalReport.live,
        )
        .order_by(ExternalReport.id)
        .limit(1)
    )


def viewed_media_ids(case: Case) -> set[int]:
    ids = [m.id for m in case.media]
    if not ids:
        return set()
    return set(db.session.scalars(select(MediaView.media_id).where(MediaView.media_id.in_(ids)).distinct()))


@dataclass
class Preview:
    """Exactly what a report for this case would send, for the dialog."""

    case: Case
    rule: ReportingRule
    incident_type: str | None
    payload: dict
    files: list[dict]
    existing: ExternalReport | None


def build_payload(case: Case, rule: ReportingRule, incident_type: str, escalate: str | None = None) -> dict:
    user = case.reported_user
    return {
        "case_id": case.id,
        "incident_type": incident_type,
        "incident_at": case.reported_at.isoformat(),
        "content_url": case.content_url or "",
        "content_id": case.content_id or "",
        "text": case.text or "",
        "policy": case.policy.name if case.policy else "",
        "escalate": escalate or "",
        "reporter": {
            "first_name": rule.contact_first_name,
            "last_name": rule.contact_last_name,
            "email": rule.contact_email,
        },
        "reported_user": {
            "platform_id": user.platform_id if user else "",
            "name": user.name if user else "",
            "email": user.email if user else "",
            "screen_name": user.screen_name if user else "",
            "profile_url": user.profile_url if user else "",
            "ip_events": list(user.ip_events or []) if user else [],
        },
        "retracted_ids": [],
    }


def preview(case: Case, rule: ReportingRule, incident_type: str | None = None) -> Preview:
    from console.policies.service import incident_type_for

    incident = incident_type or incident_type_for(case.policy_id)
    viewed = viewed_media_ids(case)
    files = [
        {"media": m, "viewed": m.id in viewed, "name": m.original_name, "md5": m.md5, "sha256": m.sha256}
        for m in case.media
    ]
    return Preview(
        case,
        rule,
        incident,
        build_payload(case, rule, incident or ""),
        files,
        existing_report_for(case, rule.agency_id),
    )


def create_report(
    case: Case,
    rule: ReportingRule,
    incident_type: str,
    *,
    triggered_by: str,
    created_by=None,
    escalate: str | None = None,
    classifications: dict[int, str] | None = None,
) -> tuple[ExternalReport, bool]:
    """Create the report row in the caller's transaction, or return the live one for the same content.

    Returns (report, created). Never commits: the caller commits together with its own change, then enqueues.
    """
    try:
        incident = IncidentType(incident_type)
    except ValueError:
        raise ReportingError("choose one of the eight CyberTipline incident types") from None
    classifications = classifications or {}
    for value in classifications.values():
        if value:
            IndustryClassification(value)  # refuses anything but A1, A2, B1, B2
    existing = existing_report_for(case, rule.agency_id)
    case.ncmec_report_required = False  # filed now, or already filed for the same content
    if existing is not None:
        return existing, False
    viewed = viewed_media_ids(case)
    now = utcnow()
    report = ExternalReport(
        agency_id=rule.agency_id,
        case_id=case.id,
        rule_id=rule.id,
        fingerprint=fingerprint(case),
        live=True,
        state="queued",
        triggered_by=triggered_by,
        created_by_id=getattr(created_by, "id", None),
        incident_type=incident.value,
        escalate=bool(escalate),
        contact_first_name=rule.contact_first_name,
        contact_last_name=rule.contact_last_name,
        contact_email=rule.contact_email,
        payload=build_payload(case, rule, incident.value, escalate),
        created_at=now,
        updated_at=now,
        next_attempt_at=None,
    )
    report.files = [
        ReportFile(
            media_id=m.id,
            position=i,
            original_name=m.original_name,
            sha256=m.sha256,
            md5=m.md5,
            viewed_by_esp=m.id in viewed,
            exif_viewed_by_esp=False,
            industry_classification=classifications.get(m.id) or None,
            annotations=[],
        )
        for i, m in enumerate(case.media)
    ]
    try:
        # A savepoint: losing the race to another transaction must not undo the caller's own work.
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except IntegrityError:
        existing = existing_report_for(case, rule.agency_id)
        if existing is None:
            raise
        return existing, False
    rule.last_fired_at = now
    audit.record(
        "report_created",
        "external_report",
        report.id,
        actor=created_by,
        actor_label="" if created_by else "system",
        case_id=case.id,
        incident_type=incident.value,
        rule=rule.name,
        triggered_by=triggered_by,
    )
    return report, True


# --- the documents, from the frozen payload only -----------------------------------------------------------


def report_document(report: ExternalReport) -> bytes:
    p = report.payload
    user = p.get("reported_user") or {}
    ip_events = [
        IpCaptureEvent(
            ip_address=ev["ip"],
            event_name=ev.get("event") or None,
            date_time=datetime.fromisoformat(ev["at"]) if ev.get("at") else None,
        )
        for ev in user.get("ip_events") or []
        if ev.get("ip")
    ]
    person = None
    if user.get("name") or user.get("email"):
        person = PersonOrUserReportedPerson(
            display_name=user.get("name") or None, emails=[user["email"]] if user.get("email") else ()
        )
    reported = PersonOrUserReported(
        person_or_user_reported_person=person,
        esp_identifier=user.get("platform_id") or None,
        screen_name=user.get("screen_name") or None,
        profile_url=user.get("profile_url") or None,
        ip_capture_events=ip_events,
    )
    info = [
        f"Moderation console case #{p['case_id']}" + (f", policy: {p['policy']}" if p.get("policy") else "")
    ]
    if p.get("content_id"):
        info.append(f"Platform content id: {p['content_id']}")
    if p.get("text"):
        info.append("Content text:\n" + p["text"])
    doc = Report(
        incident_summary=IncidentSummary(
            incident_type=IncidentType(report.incident_type),
            incident_date_time=datetime.fromisoformat(p["incident_at"]),
            escalate_to_high_priority=p.get("escalate") or None,
        ),
        internet_details=(
            [InternetDetails(web_page_incident=WebPageIncident(urls=[p["content_url"]]))]
            if p.get("content_url")
            else []
        ),
        reporter=Reporter(
            ReportingPerson(
                first_name=report.contact_first_name,
                last_name=report.contact_last_name,
                email=report.contact_email,
            )
        ),
        persons_or_users_reported=[reported] if (user.get("platform_id") or person) else [],
        additional_info="\n\n".join(info),
    )
    return build_report_xml(doc)


def file_document(report: ExternalReport, f: ReportFile) -> bytes:
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
            original_file_hashes=[FileHash(HashType.MD5, f.md5)],
        )
    )
