"""Creating a report: what will be sent, frozen at creation, and the one-report-per-content guard.

The documents themselves are built from the frozen payload in documents.py; what the payload carries beyond
the incident (reporter, where, escalation, annotations, thread, people, earlier CyberTips) in details.py.

Why this module is long (about 420 lines): the dialog's preview and the creation must build the same report
from the same pieces (build_payload, _report_files, _check), and the one-report-per-content guard
(fingerprint, existing_report_for) belongs beside the insert it guards.

A report row is created in the same transaction as the decision that caused it (or the moderator's
"Submit report"); the RQ job that files it is enqueued only after that commit. The partial UNIQUE index on
(agency, fingerprint) over live rows makes a second live report for the same content impossible, whatever
races or retries happen in front of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select, union
from sqlalchemy.exc import IntegrityError

from console import audit
from console.cases.models import Case
from console.extensions import db
from console.hashbank.models import prior_cybertips, prior_cybertips_by_file
from console.media.models import MediaView
from console.ncmec import (
    DocumentError,
    FileAnnotation,
    FileRelevance,
    IncidentType,
    IndustryClassification,
    ReportAnnotation,
    schema,
)
from console.ncmec.schema import Problem
from console.policies.service import incident_type_for
from console.reporting import details, documents, transcript
from console.reporting.details import Choices, PriorReport
from console.reporting.models import Agency, ExternalReport, ReportFile, ReportingRule
from console.timeutil import utcnow


class ReportingError(ValueError):
    """A report cannot be created as asked (the message says why, for the person who asked)."""


def normalise_url(url: str) -> str:
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def _url_key(url: str) -> str:
    return "url:" + hashlib.sha256(normalise_url(url).encode()).hexdigest()


def _content_key(content_id: str) -> str:
    return "content:" + hashlib.sha256(content_id.encode()).hexdigest()


def _is_thread(case: Case) -> bool:
    """A chat thread without files: a link to its conversation names every thread ever reported from it, so
    the URL says nothing about which content this is."""
    return bool(case.thread) and not case.media


def url_key(case: Case) -> str | None:
    """The content URL as an identity, when it names one item (not a conversation's threads)."""
    if case.content_url and not _is_thread(case):
        return _url_key(case.content_url)
    return None


def content_item(case: Case) -> str:
    """Which item on the platform a report is about: "the same content" of one report per content.

    The platform's content id; else the normalised content URL; else the case itself. Never the bytes: the
    same file uploaded again (by anyone) is another item on the platform, a new apparent violation that
    18 U.S.C. §2258A asks to be reported — NCMEC links such reports itself, helped by priorCTReports.
    """
    if case.content_id:
        return _content_key(case.content_id)
    return url_key(case) or f"case:{case.id}"


def existing_report_for(case: Case, agency_id: int) -> ExternalReport | None:
    """The live report for the same content item, if there is one.

    The item's own key (what the partial unique index holds); and, as the platform may name one item by its
    content id in one report and only by its URL in another, a report keyed by this case's URL, or — for a
    case known only by its URL — a report whose case had a content id and the same URL. One indexed lookup
    per kind, united: an OR across them would scan every report (this runs on every case page).
    """
    keys = {content_item(case)}
    url = url_key(case)
    branches = []
    if url:
        keys.add(url)
        if not case.content_id:
            branches.append(select(ExternalReport.id).where(ExternalReport.url_key == url))
    branches.append(select(ExternalReport.id).where(ExternalReport.fingerprint.in_(sorted(keys))))
    return db.session.scalar(
        select(ExternalReport)
        .where(
            ExternalReport.id.in_(union(*branches).scalar_subquery()),
            ExternalReport.agency_id == agency_id,
            ExternalReport.live,  # as the partial unique index states it, so it is used
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
    choices: Choices = field(default_factory=Choices)  # what the dialog preselects (or was sent back)
    prior: list[PriorReport] = field(default_factory=list)  # the user's earlier CyberTips
    file_xml: list[str] = field(default_factory=list)  # each file's fileDetails, with stand-in ids


def build_payload(
    case: Case,
    rule: ReportingRule,
    incident_type: str,
    escalate: str | None = None,
    choices: Choices | None = None,
) -> dict:
    """Everything the report document is built from, frozen on the report row when it is created."""
    choices = choices or Choices(escalate=escalate)
    agency_id = getattr(rule, "agency_id", None)
    agency = db.session.get(Agency, agency_id) if agency_id else None
    earlier = [tip.cybertip_id for tip in details.prior_reports(case, agency_id)] if agency_id else []
    chosen = set(choices.report_annotations)
    return {
        "case_id": case.id,
        "incident_type": incident_type,
        "incident_at": case.reported_at.isoformat(),
        "content_url": case.content_url or "",
        "content_id": case.content_id or "",
        "text": case.text or "",
        "policy": case.policy.name if case.policy else "",
        "escalate": (escalate or choices.escalate or "").strip(),
        "report_annotations": [a.value for a in ReportAnnotation if a.value in chosen],
        "reporter": details.reporter(rule, agency),
        "internet_details": details.internet_details(case) if case.id else {},
        "thread": details.thread(case),
        **details.people(case),
        "reported_user": details.reported_user(case),
        "law_enforcement": details.law_enforcement(case),
        "incident_time_description": case.incident_time_description or "",
        "retracted_ids": [],
        # NCMEC's priorCTReports, one list: the user's earlier CyberTips, then those whose content this case's
        # files match (the hash bank).
        "prior_ct_reports": _once([*earlier, *(prior_cybertips(case.id) if case.id else [])]),
        "prior_ct_of_user": earlier,  # which of them name this user's earlier reports (for the wording)
    }


def _once(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def preview(
    case: Case, rule: ReportingRule, incident_type: str | None = None, choices: Choices | None = None
) -> Preview:
    """What a report would send now: with the moderator's ``choices``, else the rule's and policy's."""
    incident = incident_type or incident_type_for(case.policy_id)
    choices = choices if choices is not None else details.defaults(case, rule)
    viewed = viewed_media_ids(case)
    reported_before = prior_cybertips_by_file(case.id) if case.id and case.media else {}
    files = [
        {
            "media": m,
            "viewed": m.id in viewed,
            "name": m.original_name,
            "md5": m.md5,
            "sha256": m.sha256,
            "reported_before": reported_before.get(m.id, []),
            "details": details.file_details(m),
        }
        for m in case.media
    ]
    payload = build_payload(case, rule, incident or IncidentType.CHILD_PORNOGRAPHY.value, choices=choices)
    unsaved = _unsaved_report(case, rule, payload, choices, viewed)
    xml, found, file_xml = _check(unsaved)
    if payload["thread"]:
        generated = unsaved.files[-1]
        files.append(
            {
                "media": None,
                "viewed": False,
                "name": generated.original_name,
                "md5": generated.md5,
                "sha256": generated.sha256,
                "reported_before": [],
                "details": {},
            }
        )
    return Preview(
        case,
        rule,
        incident,
        {**payload, "incident_type": incident or ""},
        files,
        existing_report_for(case, rule.agency_id),
        xml,
        found,
        choices,
        details.prior_reports(case, rule.agency_id),
        file_xml,
    )


def _report_files(
    case: Case, payload: dict, choices: Choices, viewed: set[int], *, store: bool
) -> list[ReportFile]:
    """The report's files: the case's media as Reported, then a chat's transcript as Supplemental Reported."""
    extra = details.extra_hashes(case)
    files = [
        ReportFile(
            media_id=m.id,
            position=i,
            original_name=m.original_name,
            sha256=m.sha256,
            md5=m.md5,
            relevance=FileRelevance.REPORTED.value,
            viewed_by_esp=m.id in viewed,
            exif_viewed_by_esp=False,
            industry_classification=choices.classifications.get(m.id) or None,
            annotations=[
                a.value for a in FileAnnotation if a.value in set(choices.file_annotations.get(m.id, ()))
            ],
            hashes=extra.get(m.id, []),
            details=details.file_details(m),
        )
        for i, m in enumerate(case.media)
    ]
    if payload["thread"]:
        files.append(transcript.report_file(case.id, payload["thread"], position=len(files), store=store))
    return files


def _unsaved_report(
    case: Case, rule: ReportingRule, payload: dict, choices: Choices, viewed: set[int]
) -> ExternalReport:
    """The report row create_report would add, without adding it: for checking what would be sent."""
    return ExternalReport(
        incident_type=payload["incident_type"],
        contact_first_name=rule.contact_first_name,
        contact_last_name=rule.contact_last_name,
        contact_email=rule.contact_email,
        payload=payload,
        files=_report_files(case, payload, choices, viewed, store=False),
    )


def check_documents(report: ExternalReport) -> tuple[str, list[Problem]]:
    """The report XML as it would be sent and everything NCMEC would refuse in it or its file details."""
    xml, found, _files = _check(report)
    return xml, found


def _check(report: ExternalReport) -> tuple[str, list[Problem], list[str]]:
    """The report XML, what NCMEC would refuse in it or its file details, and each file's details.

    File details are checked with stand-in ids (NCMEC assigns the real ones): every other field is real.
    """
    try:
        xml = documents.report_document(report)
    except DocumentError as error:
        return "", [Problem(error.path, schema.field_label(error.path), error.message)], []
    found = schema.problems(xml)
    file_xml = []
    stand_in = ExternalReport(ncmec_report_id="0")
    for f in report.files:
        details_row = ReportFile(
            ncmec_file_id="0" * 32,
            media_id=f.media_id,
            original_name=f.original_name,
            sha256=f.sha256,
            md5=f.md5,
            relevance=f.relevance,
            viewed_by_esp=bool(f.viewed_by_esp),
            exif_viewed_by_esp=bool(f.exif_viewed_by_esp),
            industry_classification=f.industry_classification,
            annotations=list(f.annotations or []),
            hashes=list(f.hashes or []),
            details=dict(f.details or {}),
        )
        try:
            document = documents.file_document(stand_in, details_row)
        except DocumentError as error:
            found.append(Problem(error.path, schema.field_label(error.path), error.message))
            file_xml.append("")  # one entry per file, in the files' order
            continue
        found += schema.problems(document)
        file_xml.append(document.decode())
    return xml.decode(), found, file_xml


def create_report(
    case: Case,
    rule: ReportingRule,
    incident_type: str,
    *,
    triggered_by: str,
    created_by=None,
    escalate: str | None = None,
    classifications: dict[int, str] | None = None,
    choices: Choices | None = None,
    refuse_invalid: bool = False,
) -> tuple[ExternalReport, bool]:
    """Create the report row in the caller's transaction, or return the live one for the same content.

    Returns (report, created). Never commits: the caller commits together with its own change, then enqueues.
    ``choices`` are the moderator's (escalation, annotations, per-file classification); without them the
    rule's escalation and the policy's annotations apply (the automatic flow). ``escalate`` and
    ``classifications`` override theirs. ``refuse_invalid`` (the moderator's dialog) refuses a report NCMEC
    would refuse, naming the fields; the automatic flow creates it anyway, so that the worker parks it where
    an admin sees the reason.
    """
    try:
        incident = IncidentType(incident_type)
    except ValueError:
        raise ReportingError("choose one of the eight CyberTipline incident types") from None
    choices = choices if choices is not None else details.defaults(case, rule)
    if escalate is not None or classifications is not None:
        choices = replace(
            choices,
            escalate=escalate if escalate is not None else choices.escalate,
            classifications=classifications if classifications is not None else choices.classifications,
        )
    for value in choices.classifications.values():
        if value:
            IndustryClassification(value)  # refuses anything but A1, A2, B1, B2
    wrong = details.check_choices(choices)
    if wrong:
        raise ReportingError("; ".join(wrong))
    existing = existing_report_for(case, rule.agency_id)
    if existing is not None:
        case.ncmec_report_required = False  # already filed for the same content
        return existing, False
    payload = build_payload(case, rule, incident.value, choices=choices)
    viewed = viewed_media_ids(case)
    if refuse_invalid:
        _xml, found = check_documents(_unsaved_report(case, rule, payload, choices, viewed))
        if found:
            raise ReportingError(
                "NCMEC would refuse this report: "
                + "; ".join(str(p) for p in found[:5])
                + ". Fix the case first."
            )
    case.ncmec_report_required = False  # filed now
    now = utcnow()
    report = ExternalReport(
        agency_id=rule.agency_id,
        case_id=case.id,
        rule_id=rule.id,
        fingerprint=content_item(case),
        url_key=url_key(case),
        live=True,
        state="queued",
        triggered_by=triggered_by,
        created_by_id=getattr(created_by, "id", None),
        incident_type=incident.value,
        escalate=bool(payload["escalate"]),
        contact_first_name=rule.contact_first_name,
        contact_last_name=rule.contact_last_name,
        contact_email=rule.contact_email,
        payload=payload,
        created_at=now,
        updated_at=now,
        next_attempt_at=None,
    )
    # A chat's transcript is written now, frozen like the payload: the pipeline uploads it like media.
    report.files = _report_files(case, payload, choices, viewed, store=True)
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
        escalated=bool(payload["escalate"]),
        prior_ct_reports=payload["prior_ct_reports"],
    )
    return report, True
