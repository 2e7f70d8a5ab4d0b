"""Creating a report: what will be sent, frozen at creation, and the one-report-per-content guard.

The documents themselves are built from the frozen payload in documents.py.

A report row is created in the same transaction as the decision that caused it (or the moderator's
"Submit report"); the RQ job that files it is enqueued only after that commit. The partial UNIQUE index on
(agency, fingerprint) over live rows makes a second live report for the same content impossible, whatever
races or retries happen in front of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, union
from sqlalchemy.exc import IntegrityError

from console import audit
from console.cases.models import Case
from console.extensions import db
from console.hashbank.models import prior_cybertips
from console.media.models import MediaView
from console.ncmec import DocumentError, IncidentType, IndustryClassification, schema
from console.ncmec.schema import Problem
from console.policies.service import incident_type_for
from console.reporting import documents
from console.reporting.models import ExternalReport, ReportFile, ReportingRule
from console.timeutil import utcnow


class ReportingError(ValueError):
    """A report cannot be created as asked (the message says why, for the person who asked)."""


def normalise_url(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _url_fingerprint(url: str) -> str:
    return "url:" + hashlib.sha256(normalise_url(url).encode()).hexdigest()


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
        return _url_fingerprint(case.content_url)
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
        fingerprints.add(_url_fingerprint(case.content_url))
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
    """Exactly what a report for this case would send, for the dialog, and what NCMEC would refuse in it."""

    case: Case
    rule: ReportingRule
    incident_type: str | None
    payload: dict
    files: list[dict]
    existing: ExternalReport | None
    xml: str = ""  # the report document as it would be sent now
    problems: list[Problem] = field(default_factory=list)


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
        # Earlier CyberTips whose content this case's files match (the hash bank): NCMEC's priorCTReports.
        "prior_ct_reports": prior_cybertips(case.id) if case.id else [],
    }


def preview(case: Case, rule: ReportingRule, incident_type: str | None = None) -> Preview:
    incident = incident_type or incident_type_for(case.policy_id)
    viewed = viewed_media_ids(case)
    files = [
        {"media": m, "viewed": m.id in viewed, "name": m.original_name, "md5": m.md5, "sha256": m.sha256}
        for m in case.media
    ]
    payload = build_payload(case, rule, incident or IncidentType.CHILD_PORNOGRAPHY.value)
    xml, found = check_documents(_unsaved_report(case, rule, payload))
    return Preview(
        case,
        rule,
        incident,
        build_payload(case, rule, incident or ""),
        files,
        existing_report_for(case, rule.agency_id),
        xml,
        found,
    )


def _unsaved_report(case: Case, rule: ReportingRule, payload: dict, classifications=None) -> ExternalReport:
    """The report row create_report would add, without adding it: for checking what would be sent."""
    classifications = classifications or {}
    return ExternalReport(
        incident_type=payload["incident_type"],
        contact_first_name=rule.contact_first_name,
        contact_last_name=rule.contact_last_name,
        contact_email=rule.contact_email,
        payload=payload,
        files=[
            ReportFile(
                original_name=m.original_name,
                sha256=m.sha256,
                md5=m.md5,
                viewed_by_esp=False,
                exif_viewed_by_esp=False,
                industry_classification=classifications.get(m.id) or None,
            )
            for m in case.media
        ],
    )


def check_documents(report: ExternalReport) -> tuple[str, list[Problem]]:
    """The report XML as it would be sent and everything NCMEC would refuse in it or its file details.

    File details are checked with stand-in ids (NCMEC assigns the real ones): every other field is real.
    """
    try:
        xml = documents.report_document(report)
    except DocumentError as error:
        return "", [Problem(error.path, schema.field_label(error.path), error.message)]
    found = schema.problems(xml)
    stand_in = ExternalReport(ncmec_report_id="0")
    for f in report.files:
        details = ReportFile(
            ncmec_file_id="0" * 32,
            original_name=f.original_name,
            sha256=f.sha256,
            md5=f.md5,
            viewed_by_esp=bool(f.viewed_by_esp),
            exif_viewed_by_esp=bool(f.exif_viewed_by_esp),
            industry_classification=f.industry_classification,
        )
        try:
            found += schema.problems(documents.file_document(stand_in, details))
        except DocumentError as error:
            found.append(Problem(error.path, schema.field_label(error.path), error.message))
    return xml.decode(), found


def create_report(
    case: Case,
    rule: ReportingRule,
    incident_type: str,
    *,
    triggered_by: str,
    created_by=None,
    escalate: str | None = None,
    classifications: dict[int, str] | None = None,
    refuse_invalid: bool = False,
) -> tuple[ExternalReport, bool]:
    """Create the report row in the caller's transaction, or return the live one for the same content.

    Returns (report, created). Never commits: the caller commits together with its own change, then enqueues.
    ``refuse_invalid`` (the moderator's dialog) refuses a report NCMEC would refuse, naming the fields; the
    automatic flow creates it anyway, so that the worker parks it where an admin sees the reason.
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
    if existing is not None:
        case.ncmec_report_required = False  # already filed for the same content
        return existing, False
    payload = build_payload(case, rule, incident.value, escalate)
    if refuse_invalid:
        _xml, found = check_documents(_unsaved_report(case, rule, payload, classifications))
        if found:
            raise ReportingError(
                "NCMEC would refuse this report: "
                + "; ".join(str(p) for p in found[:5])
                + ". Fix the case first."
            )
    case.ncmec_report_required = False  # filed now
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
        payload=payload,
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
