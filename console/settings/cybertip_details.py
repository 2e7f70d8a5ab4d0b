"""Settings → CyberTip details: the company in every report, and how cases map to NCMEC's terms.

- The company's legal details (NCMEC's companyTemplate, termsOfService, legalURL) and the law-enforcement
  contact (contactPerson), kept on the agency and sent in each report's ``reporter``.
- The platform's content types mapped to content kinds (console/cases/kinds.py): which internetDetails
  element a case's report carries when the sender names only its own type.
- The report annotations each policy preselects (sextortion, CSAM solicitation …).

Each change is checked as NCMEC will take it (its lengths, URLs and characters), audited and committed, like
the rest of the settings (console/settings/service.py raises the same SettingsError, field by field).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select

from console import audit
from console.cases.kinds import CONTENT_KINDS
from console.cases.models import ContentTypeKind
from console.extensions import db
from console.ncmec import ReportAnnotation
from console.ncmec.constants import NAME_MAX, PHONE_MAX, url_problem
from console.policies.models import Policy
from console.reporting.models import Agency
from console.settings.service import SettingsError
from console.text_rules import text_problem

LEGAL_TEXT_MAX = 20_000  # companyTemplate and termsOfService: the XSD sets no limit; a sane one for a form
PLATFORM_TYPE_MAX = 100


@dataclass(frozen=True)
class ReporterDetails:
    company_template: str = ""
    terms_of_service: str = ""
    legal_url: str = ""
    le_contact_first_name: str = ""
    le_contact_last_name: str = ""
    le_contact_email: str = ""
    le_contact_phone: str = ""


def reporter_details(agency: Agency) -> ReporterDetails:
    return ReporterDetails(
        **{name: getattr(agency, name) or "" for name in ReporterDetails.__dataclass_fields__}
    )


def save_reporter_details(
    agency_id: int, details: ReporterDetails, *, actor=None, actor_label: str = ""
) -> Agency:
    """Set the company's legal details and law-enforcement contact that every report of the agency carries."""
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise LookupError(f"no agency {agency_id}")
    clean = ReporterDetails(**{k: (v or "").strip() for k, v in details.__dict__.items()})
    errors: dict[str, str] = {}
    for name in ("company_template", "terms_of_service"):
        value = getattr(clean, name)
        if len(value) > LEGAL_TEXT_MAX:
            errors[name] = f"Enter at most {LEGAL_TEXT_MAX} characters."
        elif text_problem(value, multiline=True):
            errors[name] = "Remove the control characters from the text."
    if clean.legal_url:
        why = url_problem(clean.legal_url)
        if why:
            errors["legal_url"] = f"The URL {why}."
        elif (
            urlsplit(clean.legal_url).scheme not in ("http", "https") or not urlsplit(clean.legal_url).netloc
        ):
            errors["legal_url"] = "Enter the URL of the legal page, starting with https://."
    for name, limit in (
        ("le_contact_first_name", NAME_MAX),
        ("le_contact_last_name", NAME_MAX),
        ("le_contact_email", 254),
        ("le_contact_phone", PHONE_MAX),
    ):
        value = getattr(clean, name)
        if len(value) > limit:
            errors[name] = f"Enter at most {limit} characters (NCMEC's limit)."
        elif text_problem(value):
            errors[name] = "Enter it on one line, without control characters."
    if clean.le_contact_email and "@" not in clean.le_contact_email:
        errors["le_contact_email"] = "Enter a valid email address."
    contact = (
        clean.le_contact_first_name,
        clean.le_contact_last_name,
        clean.le_contact_email,
        clean.le_contact_phone,
    )
    if any(contact) and not (
        clean.le_contact_last_name and (clean.le_contact_email or clean.le_contact_phone)
    ):
        # Law enforcement must be able to reach the person: a name and a way to reach them.
        errors.setdefault("le_contact_last_name", "Enter the contact's name and an email or phone number.")
    if errors:
        raise SettingsError(errors)
    before = reporter_details(agency).__dict__
    for name, value in clean.__dict__.items():
        setattr(agency, name, value)
    if clean.__dict__ != before:
        audit.record(
            "agency_reporter_details_changed",
            "agency",
            agency.id,
            actor=actor,
            actor_label=actor_label,
            before=before,
            after=clean.__dict__,
        )
    db.session.commit()
    return agency


# --- the platform's content types ---------------------------------------------------------------------------


def content_type_mappings() -> list[ContentTypeKind]:
    return list(db.session.scalars(select(ContentTypeKind).order_by(ContentTypeKind.platform_type)))


def map_content_type(platform_type: str, kind: str, *, actor=None, actor_label: str = "") -> ContentTypeKind:
    """Map a platform content type (case-insensitive) to a content kind; mapping it again replaces it."""
    name = (platform_type or "").strip().lower()
    errors: dict[str, str] = {}
    if not name:
        errors["platform_type"] = "Enter the platform's name for the content type (e.g. dm, forum_post)."
    elif len(name) > PLATFORM_TYPE_MAX or text_problem(name):
        errors["platform_type"] = f"Enter it on one line, at most {PLATFORM_TYPE_MAX} characters."
    if kind not in CONTENT_KINDS:
        errors["kind"] = "Choose a content kind."
    if errors:
        raise SettingsError(errors)
    row = db.session.scalar(select(ContentTypeKind).where(ContentTypeKind.platform_type == name))
    before = row.kind if row else None
    if row is None:
        row = ContentTypeKind(platform_type=name, kind=kind)
        db.session.add(row)
    row.kind = kind
    db.session.flush()
    audit.record(
        "content_type_mapped",
        "content_type",
        row.id,
        actor=actor,
        actor_label=actor_label,
        platform_type=name,
        before=before,
        after=kind,
    )
    db.session.commit()
    return row


def unmap_content_type(mapping_id: int, *, actor=None, actor_label: str = "") -> None:
    row = db.session.get(ContentTypeKind, mapping_id)
    if row is None:
        raise LookupError(f"no content type mapping {mapping_id}")
    audit.record(
        "content_type_unmapped",
        "content_type",
        row.id,
        actor=actor,
        actor_label=actor_label,
        platform_type=row.platform_type,
        before=row.kind,
    )
    db.session.delete(row)
    db.session.commit()


# --- the report annotations each policy preselects ---------------------------------------------------------


def set_policy_annotations(
    policy_id: int, annotations: list[str], *, actor=None, actor_label: str = ""
) -> Policy:
    policy = db.session.get(Policy, policy_id)
    if policy is None:
        raise LookupError(f"no policy {policy_id}")
    known = [a.value for a in ReportAnnotation]
    if set(annotations) - set(known):
        raise SettingsError({"annotations": "Choose annotations from the list."})
    chosen = [a for a in known if a in annotations]
    before = list(policy.ncmec_report_annotations or [])
    if chosen != before:
        policy.ncmec_report_annotations = chosen or None
        audit.record(
            "policy_report_annotations_changed",
            "policy",
            policy.id,
            actor=actor,
            actor_label=actor_label,
            policy=policy.name,
            before=before,
            after=chosen,
        )
    db.session.commit()
    return policy
