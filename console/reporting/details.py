"""What a CyberTip carries beyond the incident and the files, gathered when the report is created.

NCMEC can refer a tip to law enforcement only when it is complete: who reports (the rule's reporting person,
the company's legal details and law-enforcement contact), where it happened (the case's content kind and its
fields), how urgent it is (escalation) and what it is (annotations), the messages of a chat, who received the
content or was harmed, and the user's earlier CyberTips. Each section here becomes part of the payload frozen
on the report row (filing.build_payload); reporting/documents.py turns the payload into XML, and nothing at
send time reads the case again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from console.cases import kinds
from console.cases.models import Case
from console.extensions import db
from console.hashbank.models import MediaHash
from console.ncmec import FileAnnotation, ReportAnnotation
from console.policies.service import lineage_ids, report_annotations_for
from console.reporting.models import Agency, ExternalReport, ReportingRule


@dataclass(frozen=True)
class Choices:
    """What goes into a report beyond the incident type: the moderator's, or the rule's and policy's defaults.

    ``escalate`` is the reason (None: not escalated); per-file choices are keyed by media id.
    """

    escalate: str | None = None
    report_annotations: Sequence[str] = ()
    classifications: Mapping[int, str] = field(default_factory=dict)
    file_annotations: Mapping[int, Sequence[str]] = field(default_factory=dict)


def defaults(case: Case | Sequence[Case], rule: ReportingRule) -> Choices:
    """What the dialog preselects, and what the automatic flow sends: the rule's escalation, the policy's
    annotations; no file is classified (a person classifies what they looked at). For several contents: the
    rule's escalation of the first that asks for it, every content's policy annotations."""
    cases = list(case) if isinstance(case, list | tuple) else [case]
    chosen = {a for c in cases for a in report_annotations_for(c.policy_id)}
    return Choices(
        escalate=next((why for c in cases if (why := rule_escalation(c, rule)) is not None), None),
        report_annotations=tuple(a.value for a in ReportAnnotation if a.value in chosen),
    )


def rule_escalation(case: Case, rule: ReportingRule) -> str | None:
    """The rule's escalation reason when it asks for escalation of this case, else None."""
    threshold = getattr(rule, "escalate_min_confidence", None)
    confident = (
        threshold is not None
        and case.ai_detected
        and case.ai_confidence is not None
        and case.ai_confidence >= threshold
    )
    chosen = {p.id for p in getattr(rule, "escalation_policies", None) or []}
    by_policy = (
        bool(chosen) and case.policy_id is not None and bool(chosen & set(lineage_ids(case.policy_id)))
    )
    if not (confident or by_policy):
        return None
    return rule.escalation_reason or f"Escalated by the reporting rule “{rule.name}”."


def check_choices(choices: Choices) -> list[str]:
    """What is wrong with the choices, in words (the dialog's form checks the same)."""
    wrong = []
    if choices.escalate is not None and not choices.escalate.strip():
        wrong.append("an escalation needs a reason")
    unknown = set(choices.report_annotations) - {a.value for a in ReportAnnotation}
    if unknown:
        wrong.append(f"unknown report annotations: {', '.join(sorted(unknown))}")
    for values in choices.file_annotations.values():
        unknown = set(values) - {a.value for a in FileAnnotation}
        if unknown:
            wrong.append(f"unknown file annotations: {', '.join(sorted(unknown))}")
    return wrong


# --- the payload's sections -----------------------------------------------------------------------------


def reporter(rule: ReportingRule, agency: Agency | None) -> dict:
    """The rule's reporting person, with the company's legal details and law-enforcement contact."""
    out = {
        "first_name": rule.contact_first_name,
        "last_name": rule.contact_last_name,
        "email": rule.contact_email,
        "phone": getattr(rule, "contact_phone", "") or "",
    }
    if agency is not None:
        out.update(
            company_template=agency.company_template or "",
            terms_of_service=agency.terms_of_service or "",
            legal_url=agency.legal_url or "",
            contact_person={
                "first_name": agency.le_contact_first_name or "",
                "last_name": agency.le_contact_last_name or "",
                "email": agency.le_contact_email or "",
                "phone": agency.le_contact_phone or "",
            },
        )
    return out


def internet_details(case: Case) -> dict:
    """Where it happened: the content kind and the kind's fields, as the case has them."""
    kind = kinds.kind_for(case)
    known = kinds.fields_of(kind) if kind else {}
    given = case.incident_details or {}
    return {"kind": kind or "", "fields": {k: given[k] for k in known if given.get(k)}}


def thread(case: Case) -> list[dict]:
    """The chat's messages, each attachment named by its file (the report carries the files themselves)."""
    media = {m.id: m for m in case.media}
    return [
        {
            "sender": msg.get("sender", ""),
            "recipient": msg.get("recipient", ""),
            "sent_at": msg["sent_at"],
            "text": msg.get("text", ""),
            "attachments": [
                {"name": media[i].original_name, "sha256": media[i].sha256}
                for i in msg.get("attachments", [])
                if i in media
            ],
        }
        for msg in case.thread or []
    ]


def people(case: Case) -> dict:
    return {"intended_recipient": dict(case.intended_recipient or {}), "victim": dict(case.victim or {})}


def reported_user(case: Case) -> dict:
    """Who posted it, with everything the platform told about them (ingestion, or its answers since)."""
    user = case.reported_user
    if user is None:
        return {
            "platform_id": "",
            "name": "",
            "email": "",
            "screen_name": "",
            "profile_url": "",
            "ip_events": [],
        }
    return {
        "platform_id": user.platform_id,
        "name": user.name,
        "email": user.email,
        "screen_name": user.screen_name,
        "profile_url": user.profile_url,
        "ip_events": list(user.ip_events or []),
        # The person, device ids, location, other accounts … (console/api/platform_details.py's shape).
        "details": dict(user.details or {}),
    }


def law_enforcement(case: Case) -> dict:
    """The agency of a law-enforcement request (or that the platform told), its case number and officer."""
    return dict(case.law_enforcement or {})


def file_details(media) -> dict:
    """What the platform kept about one file (its name there, upload, location …), frozen with the report."""
    return dict(media.details or {})


@dataclass(frozen=True)
class PriorReport:
    report_id: int
    cybertip_id: str
    finished_at: datetime | None
    case_id: int


def prior_reports(case: Case, agency_id: int, *, bundle: Sequence[Case] = ()) -> list[PriorReport]:
    """The reported user's earlier finished CyberTips with this agency, oldest first (not those from the
    case itself, nor from the other cases of the ``bundle`` being made).

    Only finished reports are CyberTips; a report still being filed, failed or retracted is none yet.
    """
    if case.reported_user_id is None:
        return []
    own = sorted({i for i in (case.id, *(c.id for c in bundle)) if i})
    rows = db.session.execute(
        select(ExternalReport.id, ExternalReport.ncmec_report_id, ExternalReport.finished_at, Case.id)
        .join(Case, Case.id == ExternalReport.case_id)
        .where(
            Case.reported_user_id == case.reported_user_id,
            Case.id.not_in(own),
            ExternalReport.agency_id == agency_id,
            ExternalReport.state == "finished",
            ExternalReport.ncmec_report_id.is_not(None),
        )
        .order_by(ExternalReport.finished_at, ExternalReport.id)
    ).all()
    return [PriorReport(rid, tip, at, cid) for rid, tip, at, cid in rows if (tip or "").isdigit()]


def cybertip_ids(values: Sequence[object]) -> list[int]:
    """``priorCTReports`` values: the CyberTip ids as numbers (the XSD's xs:long), each once, in order."""
    out: list[int] = []
    for value in values:
        text = str(value).strip()
        if text.isdigit() and int(text) not in out:
            out.append(int(text))
    return out


# The XSD takes any hashType; these are the names NCMEC's documentation uses.
_HASH_TYPES = {"pdq": "PDQ", "sha1": "SHA1", "photodna": "PhotoDNA"}


def extra_hashes(case: Case) -> dict[int, list[dict]]:
    """Media id → the file's hashes beyond SHA-256 and MD5 (its PDQ, a detector's ids), for originalFileHash.

    Read from the hashes kept at ingestion (hashbank's media_hashes, the API's ``media_hashes`` field).
    """
    ids = [m.id for m in case.media]
    if not ids:
        return {}
    out: dict[int, list[dict]] = {}
    rows = db.session.scalars(
        select(MediaHash).where(MediaHash.media_id.in_(ids)).order_by(MediaHash.media_id, MediaHash.id)
    )
    for row in rows:
        if row.algorithm in ("sha256", "md5"):
            continue  # sent from the file's own digests
        entry = {"type": _HASH_TYPES.get(row.algorithm, row.algorithm.upper()), "value": row.value}
        if entry not in out.setdefault(row.media_id, []):
            out[row.media_id].append(entry)
    return out
