"""Creating a report: what will be sent, frozen at creation, and the one-report-per-content guard.

The documents themselves are built from the frozen payload in documents.py; what the payload carries beyond
the incident (reporter, where, escalation, annotations, thread, people, earlier CyberTips) in details.py.

Why this module is long (about 620 lines): the dialog's preview and the creation must build the same report
from the same pieces (build_payload, _report_files, _check) for one content or several, and the
one-report-per-content guard (content_item, live_reports_for) belongs beside the insert it guards.

A report is about one incident: one content, or several contents of one user (a bundle: the moderator's
choice on the user's page, or a rule's gathering window, gathering.py). A report row is created in the same
transaction as the decision that caused it (or the moderator's "Submit report"); the RQ job that files it is
enqueued only after that commit. Each content of a report has a row in report_contents, and the partial
UNIQUE index on (agency, content item) over live rows makes a content in two live reports impossible,
whatever races, retries or bundles happen in front of it.
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
from console.reporting import details, documents, lease, platform, transcript
from console.reporting.details import Choices, PriorReport
from console.reporting.models import Agency, ExternalReport, ReportContent, ReportFile, ReportingRule
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


def _item_keys(case: Case) -> tuple[set[str], str | None]:
    """The keys a live content row of this item may carry, and the URL by which it may be found besides."""
    keys = {content_item(case)}
    url = url_key(case)
    if url:
        keys.add(url)
    return keys, (url if url and not case.content_id else None)


def live_reports_for(cases: list[Case], agency_id: int) -> dict[int, ExternalReport]:
    """Case id → the live report that holds the same content item, for each case that has one.

    The item's own key (what the partial unique index holds); and, as the platform may name one item by its
    content id in one report and only by its URL in another, a content keyed by the case's URL, or — for a
    case known only by its URL — a content whose case had a content id and the same URL. One indexed lookup
    per kind, united (an OR across them would scan every report: this runs on every case page), for all the
    cases at once (the reported user's page asks for a page of them).
    """
    wanted = {c.id: _item_keys(c) for c in cases}
    keys = sorted({k for ks, _url in wanted.values() for k in ks})
    urls = sorted({url for _ks, url in wanted.values() if url})
    if not keys:
        return {}
    live = (ReportContent.agency_id == agency_id, ReportContent.live)  # the partial index's predicate
    branches = [select(ReportContent.id).where(ReportContent.item.in_(keys), *live)]
    if urls:
        branches.append(select(ReportContent.id).where(ReportContent.url_key.in_(urls), *live))
    rows = db.session.execute(
        select(ReportContent.item, ReportContent.url_key, ExternalReport)
        .join(ExternalReport, ExternalReport.id == ReportContent.report_id)
        .where(ReportContent.id.in_(union(*branches).scalar_subquery()))
        .order_by(ExternalReport.id)
    ).all()
    out: dict[int, ExternalReport] = {}
    for case_id, (case_keys, url) in wanted.items():
        for item, row_url, report in rows:
            if item in case_keys or (url is not None and row_url == url):
                out[case_id] = report
                break
    return out


def existing_report_for(case: Case, agency_id: int) -> ExternalReport | None:
    """The live report that holds the same content item (alone, or with others of its incident), if any."""
    return live_reports_for([case], agency_id).get(case.id)


def viewed_media_ids(cases: Case | list[Case]) -> set[int]:
    ids = [m.id for c in _as_list(cases) for m in c.media]
    if not ids:
        return set()
    return set(db.session.scalars(select(MediaView.media_id).where(MediaView.media_id.in_(ids)).distinct()))


def _as_list(cases: Case | list[Case] | tuple[Case, ...]) -> list[Case]:
    return list(cases) if isinstance(cases, list | tuple) else [cases]


@dataclass
class Preview:
    """Exactly what a report for these contents would send, for the dialog, and what NCMEC would refuse."""

    case: Case  # the first content's case (the only one, for a report about one content)
    rule: ReportingRule
    incident_type: str | None
    payload: dict
    files: list[dict]
    existing: ExternalReport | None  # one content: the live report that holds it already
    xml: str = ""  # the report document as it would be sent now
    problems: list[Problem] = field(default_factory=list)
    choices: Choices = field(default_factory=Choices)  # what the dialog preselects (or was sent back)
    prior: list[PriorReport] = field(default_factory=list)  # the user's earlier CyberTips
    file_xml: list[str] = field(default_factory=list)  # each file's fileDetails, with stand-in ids
    cases: list[Case] = field(default_factory=list)  # every content's case, in the report's order
    # Several contents: case id → the live report that holds it already (such a content cannot be added).
    taken: dict[int, ExternalReport] = field(default_factory=dict)

    @property
    def is_bundle(self) -> bool:
        return len(self.cases) > 1


def _content(case: Case) -> dict:
    """One content of a report: what it is and where, as the case has it (frozen with the report)."""
    return {
        "case_id": case.id,
        "content_id": case.content_id or "",
        "content_url": case.content_url or "",
        "text": case.text or "",
        "policy": case.policy.name if case.policy else "",
        "incident_at": case.reported_at.isoformat(),
        "internet_details": details.internet_details(case) if case.id else {},
        "thread": details.thread(case),
        **details.people(case),
    }


def build_payload(
    case: Case | list[Case],
    rule: ReportingRule,
    incident_type: str,
    escalate: str | None = None,
    choices: Choices | None = None,
) -> dict:
    """Everything the report document is built from, frozen on the report row when it is created.

    One content: its fields at the top level (as every report before bundles had them). Several contents of
    one user (one incident): the first content's fields at the top level too, and ``contents``, each one's,
    in order; the incident time is the earliest, earlier CyberTips are every content's.
    """
    cases = _as_list(case)
    first = cases[0]
    choices = choices or Choices(escalate=escalate)
    agency_id = getattr(rule, "agency_id", None)
    agency = db.session.get(Agency, agency_id) if agency_id else None
    earlier = (
        [tip.cybertip_id for tip in details.prior_reports(first, agency_id, bundle=cases)]
        if agency_id
        else []
    )
    matched = [tip for c in cases if c.id for tip in prior_cybertips(c.id)]
    contents = [_content(c) for c in cases]
    chosen = set(choices.report_annotations)
    payload = {
        **{k: contents[0][k] for k in ("case_id", "content_url", "content_id", "text", "policy")},
        "incident_type": incident_type,
        "incident_at": min(c.reported_at for c in cases).isoformat(),
        "escalate": (escalate or choices.escalate or "").strip(),
        "report_annotations": [a.value for a in ReportAnnotation if a.value in chosen],
        "reporter": details.reporter(rule, agency),
        "internet_details": contents[0]["internet_details"],
        "thread": contents[0]["thread"],
        "intended_recipient": contents[0]["intended_recipient"],
        "victim": contents[0]["victim"],
        "reported_user": {
            **details.reported_user(first),
            # What the platform acknowledged doing to the account so far (refreshed before the freeze).
            "account_status": platform.account_status(first.reported_user),
        },
        # One lawEnforcement per report (the XSD): the first content's that has one.
        "law_enforcement": next((le for c in cases if (le := details.law_enforcement(c))), {}),
        "incident_time_description": "\n".join(
            dict.fromkeys(c.incident_time_description for c in cases if c.incident_time_description)
        ),
        "retracted_ids": [],
        # NCMEC's priorCTReports, one list: the user's earlier CyberTips, then those whose content this
        # report's files match (the hash bank).
        "prior_ct_reports": _once([*earlier, *matched]),
        "prior_ct_of_user": earlier,  # which of them name this user's earlier reports (for the wording)
    }
    if len(cases) > 1:
        payload["contents"] = contents
    return payload


def _once(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def preview(
    case: Case | list[Case],
    rule: ReportingRule,
    incident_type: str | None = None,
    choices: Choices | None = None,
) -> Preview:
    """What a report would send now: with the moderator's ``choices``, else the rules' and policies'."""
    cases = _as_list(case)
    first = cases[0]
    incident = incident_type or incident_type_for(first.policy_id)
    choices = choices if choices is not None else details.defaults(cases, rule)
    viewed = viewed_media_ids(cases)
    payload = build_payload(cases, rule, incident or IncidentType.CHILD_PORNOGRAPHY.value, choices=choices)
    unsaved = _unsaved_report(cases, rule, payload, choices, viewed)
    xml, found, file_xml = _check(unsaved)
    media = {m.id: m for c in cases for m in c.media}
    reported_before = {}
    for c in cases:
        if c.id and c.media:
            reported_before.update(prior_cybertips_by_file(c.id))
    files = [
        {
            "media": media.get(f.media_id),
            "case_id": f.case_id,
            "viewed": bool(f.viewed_by_esp),
            "name": f.original_name,
            "md5": f.md5,
            "sha256": f.sha256,
            "reported_before": reported_before.get(f.media_id, []),
            "details": dict(f.details or {}),
        }
        for f in unsaved.files
    ]
    taken = live_reports_for(cases, rule.agency_id) if len(cases) > 1 else {}
    return Preview(
        first,
        rule,
        incident,
        {**payload, "incident_type": incident or ""},
        files,
        existing_report_for(first, rule.agency_id) if len(cases) == 1 else None,
        xml,
        found,
        choices,
        details.prior_reports(first, rule.agency_id, bundle=cases),
        file_xml,
        cases,
        taken,
    )


def _report_files(
    cases: list[Case], payload: dict, choices: Choices, viewed: set[int], *, store: bool, start: int = 0
) -> list[ReportFile]:
    """The report's files, content by content: its media as Reported, then a chat's transcript as
    Supplemental Reported. Each names its content's case (a report about several contents says which)."""
    files: list[ReportFile] = []
    by_case = {c["case_id"]: c for c in payload.get("contents") or [payload]}
    for case in cases:
        extra = details.extra_hashes(case)
        for m in case.media:
            files.append(
                ReportFile(
                    case_id=case.id,
                    media_id=m.id,
                    position=start + len(files),
                    original_name=m.original_name,
                    sha256=m.sha256,
                    md5=m.md5,
                    relevance=FileRelevance.REPORTED.value,
                    viewed_by_esp=m.id in viewed,
                    exif_viewed_by_esp=False,
                    industry_classification=choices.classifications.get(m.id) or None,
                    annotations=[
                        a.value
                        for a in FileAnnotation
                        if a.value in set(choices.file_annotations.get(m.id, ()))
                    ],
                    hashes=extra.get(m.id, []),
                    details=details.file_details(m),
                )
            )
        thread = (by_case.get(case.id) or {}).get("thread") or details.thread(case)
        if thread:
            generated = transcript.report_file(case.id, thread, position=start + len(files), store=store)
            generated.case_id = case.id
            files.append(generated)
    return files


def _unsaved_report(
    cases: list[Case], rule: ReportingRule, payload: dict, choices: Choices, viewed: set[int]
) -> ExternalReport:
    """The report row create_report would add, without adding it: for checking what would be sent."""
    return ExternalReport(
        incident_type=payload["incident_type"],
        contact_first_name=rule.contact_first_name,
        contact_last_name=rule.contact_last_name,
        contact_email=rule.contact_email,
        payload=payload,
        files=_report_files(cases, payload, choices, viewed, store=False),
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
    stand_in = ExternalReport(ncmec_report_id="0", payload=report.payload)
    for f in report.files:
        details_row = ReportFile(
            ncmec_file_id="0" * 32,
            case_id=f.case_id,
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


def _checked_choices(cases: list[Case], rule, incident_type: str, choices, escalate, classifications):
    try:
        incident = IncidentType(incident_type)
    except ValueError:
        raise ReportingError("choose one of the eight CyberTipline incident types") from None
    choices = choices if choices is not None else details.defaults(cases, rule)
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
    return incident, choices


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
    """Create the report row for one content in the caller's transaction, or return the live report that
    holds the same content (alone or in a bundle).

    Returns (report, created). Never commits: the caller commits together with its own change, then enqueues.
    ``choices`` are the moderator's (escalation, annotations, per-file classification); without them the
    rule's escalation and the policy's annotations apply (the automatic flow). ``escalate`` and
    ``classifications`` override theirs. ``refuse_invalid`` (the moderator's dialog) refuses a report NCMEC
    would refuse, naming the fields; the automatic flow creates it anyway, so that the worker parks it where
    an admin sees the reason.
    """
    incident, choices = _checked_choices([case], rule, incident_type, choices, escalate, classifications)
    existing = existing_report_for(case, rule.agency_id)
    if existing is not None:
        case.ncmec_report_required = False  # already filed for the same content
        return existing, False
    try:
        return _insert([case], rule, incident, choices, triggered_by, created_by, refuse_invalid), True
    except IntegrityError:
        existing = existing_report_for(case, rule.agency_id)
        if existing is None:
            raise
        return existing, False


def create_bundle(
    cases: list[Case],
    rule: ReportingRule,
    incident_type: str,
    *,
    triggered_by: str,
    created_by=None,
    choices: Choices | None = None,
    refuse_invalid: bool = False,
    gathering_until=None,
    gathering_key: str | None = None,
) -> ExternalReport:
    """One report about several contents of one user — one incident, one incident type, every content's files
    and places — created in the caller's transaction (a bundle of one is an ordinary report).

    Refused (ReportingError, nothing added) when the contents are not of one user, when two of them are one
    item on the platform, or when one of them is in a live report already: each content is in one report.
    """
    cases = _as_list(cases)
    if not cases:
        raise ReportingError("choose at least one content")
    if len({c.reported_user_id for c in cases}) != 1:
        raise ReportingError("the contents of one report must be of one reported user")
    seen: dict[str, int] = {}
    for c in cases:
        item = content_item(c)
        if item in seen:
            raise ReportingError(f"cases #{seen[item]} and #{c.id} are the same content on the platform")
        seen[item] = c.id
    incident, choices = _checked_choices(cases, rule, incident_type, choices, None, None)
    taken = live_reports_for(cases, rule.agency_id)
    if taken:
        raise ReportingError(_taken_message(taken))
    try:
        return _insert(
            cases,
            rule,
            incident,
            choices,
            triggered_by,
            created_by,
            refuse_invalid,
            gathering_until=gathering_until,
            gathering_key=gathering_key,
        )
    except IntegrityError as error:
        taken = live_reports_for(cases, rule.agency_id)
        if not taken:
            raise
        raise ReportingError(_taken_message(taken)) from error


def _taken_message(taken: dict[int, ExternalReport]) -> str:
    return "; ".join(
        f"the content of case #{case_id} is in report #{report.id} already"
        for case_id, report in taken.items()
    )


def _insert(
    cases: list[Case],
    rule: ReportingRule,
    incident: IncidentType,
    choices: Choices,
    triggered_by: str,
    created_by,
    refuse_invalid: bool,
    *,
    gathering_until=None,
    gathering_key: str | None = None,
) -> ExternalReport:
    """The report row, its contents and its files, in a savepoint (IntegrityError: a content is taken)."""
    payload = build_payload(cases, rule, incident.value, choices=choices)
    viewed = viewed_media_ids(cases)
    if refuse_invalid:
        _xml, found = check_documents(_unsaved_report(cases, rule, payload, choices, viewed))
        if found:
            raise ReportingError(
                "NCMEC would refuse this report: "
                + "; ".join(str(p) for p in found[:5])
                + ". Fix the case first."
            )
    now = utcnow()
    first = cases[0]
    report = ExternalReport(
        agency_id=rule.agency_id,
        case_id=first.id,
        rule_id=rule.id,
        fingerprint=content_item(first),
        url_key=url_key(first),
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
        # A gathering report waits for its window: no worker claims it before (lease.claim).
        next_attempt_at=gathering_until + lease.SCHEDULER_TOLERANCE if gathering_until else None,
        gathering_until=gathering_until,
        gathering_key=gathering_key,
    )
    report.contents = [_content_row(c, rule.agency_id, i) for i, c in enumerate(cases)]
    # A chat's transcript is written now, frozen like the payload: the pipeline uploads it like media.
    report.files = _report_files(cases, payload, choices, viewed, store=True)
    # A savepoint: losing the race to another transaction must not undo the caller's own work.
    with db.session.begin_nested():
        db.session.add(report)
        db.session.flush()
    for c in cases:
        c.ncmec_report_required = False  # filed now
    rule.last_fired_at = now
    audit.record(
        "report_created",
        "external_report",
        report.id,
        actor=created_by,
        actor_label="" if created_by else "system",
        case_id=first.id,
        case_ids=[c.id for c in cases],
        incident_type=incident.value,
        rule=rule.name,
        triggered_by=triggered_by,
        escalated=bool(payload["escalate"]),
        prior_ct_reports=payload["prior_ct_reports"],
    )
    return report


def _content_row(case: Case, agency_id: int, position: int) -> ReportContent:
    return ReportContent(
        agency_id=agency_id,
        case_id=case.id,
        item=content_item(case),
        url_key=url_key(case),
        live=True,
        position=position,
    )


def add_content(report: ExternalReport, case: Case, rule: ReportingRule) -> None:
    """Add one more content to a report nobody has claimed yet (a rule's gathering window), in the caller's
    transaction: its content row (the unique index refuses a content in two live reports: IntegrityError),
    its files, and the payload built again from every content. The caller holds the report (a compare-and-
    set on it in this transaction), so no worker freezes it meanwhile."""
    cases = [c.case for c in report.contents] + [case]
    choices = details.defaults(cases, rule)
    payload = build_payload(cases, rule, report.incident_type, choices=choices)
    payload["retracted_ids"] = list((report.payload or {}).get("retracted_ids") or [])
    row = _content_row(case, report.agency_id, len(report.contents))
    row.report_id = report.id
    with db.session.begin_nested():
        db.session.add(row)
        db.session.flush()
    new_files = _report_files(
        [case], payload, choices, viewed_media_ids(case), store=True, start=len(report.files)
    )
    for f in new_files:
        f.report_id = report.id
        db.session.add(f)
    db.session.flush()
    db.session.expire(report, ["contents", "files"])
    report.payload = payload
    report.escalate = bool(payload["escalate"])
    case.ncmec_report_required = False
