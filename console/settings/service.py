"""What an admin changes under Settings → External reporting: the agency connection and the reporting rules.

Each function takes plain arguments, does its work in one transaction, writes the audit event and commits
(console/tasks.py: the transaction convention). What the page shows is read by settings/queries.py.
The agency password is write-only: it goes in through `configure_agency`, is stored encrypted, and is never
returned, rendered, logged or written to the audit log (the audit records only that it changed).

Why this module is long (about 470 lines): every change made on that page goes through it, and the
connection and the rules share one refusal type (SettingsError, field by field), one audit convention and
one commit rule; split in two they would be two halves of one page's contract. Reads are in queries.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from console import audit
from console.extensions import db
from console.ncmec import base_url_for
from console.ncmec.constants import DESCRIPTION_MAX, NAME_MAX, PHONE_MAX
from console.ncmec.errors import CyberTiplineError, NeedsAdminError, RetryableError
from console.policies.models import Policy
from console.queues.models import Queue
from console.reporting import agencies, credentials
from console.reporting import service as reporting
from console.reporting.models import Agency, ReportingRule
from console.reporting.schema_check import compare_schema
from console.settings.queries import report_count
from console.text_rules import name_problem, text_problem
from console.timeutil import utcnow

ENVIRONMENTS = {"test": "Test", "production": "Production", "custom": "Custom base URL"}

CHECK_LABELS = {
    "connected": "Connected",
    "wrong_credentials": "Wrong credentials",
    "unreachable": "Unreachable",
    "not_configured": "Not configured",
    "error": "Error",
}

# An admin pressing "Test connection" waits for the answer: fail fast instead of the job's long read timeout.
TEST_CONNECT_TIMEOUT = 3
TEST_READ_TIMEOUT = 5


# A message, not a password.
PASSWORD_AGAIN = (
    "Enter the password again: the stored one is sent only to the address and user it was entered for."  # noqa: E501, S105
)


class SettingsError(ValueError):
    """A change was refused; ``errors`` maps a form field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class RuleInUse(ValueError):
    """A rule that produced reports stays: the reports point at it. Pause it instead."""


# --- the agency connection ---------------------------------------------------------------------------------


def agency_snapshot(agency: Agency) -> dict:
    """The agency as the audit log shows it: never the password, only whether one is stored."""
    return {
        "environment": agency.environment,
        "custom_base_url": agency.custom_base_url,
        "username": agency.username,
        "password_stored": bool(agency.password_encrypted),
    }


def configure_agency(
    agency_id: int,
    *,
    environment: str,
    custom_base_url: str = "",
    username: str,
    password: str | None = None,
    actor=None,
    actor_label: str = "",
) -> Agency:
    """Set where the agency is and how we sign in.

    A blank ``password`` keeps the stored one, but only while it keeps going to the same place as the same
    user: otherwise an admin could point the agency at a server of their own and have the console send it the
    stored password (which no page ever shows).
    """
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise LookupError(f"no agency {agency_id}")
    errors: dict[str, str] = {}
    if environment not in ENVIRONMENTS:
        errors["environment"] = "Choose Test, Production or Custom base URL."
    custom_base_url = (custom_base_url or "").strip().rstrip("/")
    if environment == "custom":
        problem = agencies.custom_url_problem(custom_base_url)
        if problem:
            errors["custom_base_url"] = problem
    else:
        # Production and test are NCMEC's own fixed https addresses; nothing typed can change them.
        custom_base_url = ""
    username = (username or "").strip()
    if not username:
        errors["username"] = "Enter the ESP username."
    elif len(username) > 200 or text_problem(username):
        errors["username"] = "Enter the ESP username on one line, at most 200 characters."
    if password is not None and text_problem(password):
        errors["password"] = "The password contains control characters; type it again."  # noqa: S105
    if not password and not agency.password_encrypted:
        errors["password"] = "Enter the ESP password."  # noqa: S105 - a message, not a password
    elif (
        not password
        and not errors
        and _destination(agency)
        != (
            _destination_for(environment, custom_base_url),
            username,
        )
    ):
        errors["password"] = PASSWORD_AGAIN
    if errors:
        raise SettingsError(errors)

    before = agency_snapshot(agency)
    changed_where = (environment, custom_base_url, username) != (
        agency.environment,
        agency.custom_base_url,
        agency.username,
    )
    agency.environment = environment
    agency.custom_base_url = custom_base_url
    agency.username = username
    if password:
        agency.password_encrypted = credentials.encrypt(password)
    if changed_where or password:
        # A check made against other settings says nothing about these.
        agency.last_check_at = None
        agency.last_check_status = ""
        agency.last_check_message = ""
    audit.record(
        "agency_configured",
        "agency",
        agency.id,
        actor=actor,
        actor_label=actor_label,
        before=before,
        after=agency_snapshot(agency),
        password_changed=bool(password),
    )
    db.session.commit()
    # Reports parked on wrong credentials try again with the new ones.
    reporting.resume_waiting_for_credentials(actor)
    return agency


def _destination_for(environment: str, custom_base_url: str) -> str | None:
    try:
        return base_url_for(environment, custom_base_url if environment == "custom" else None)
    except ValueError:
        return None


def _destination(agency: Agency) -> tuple[str | None, str]:
    """Where the stored password goes, and as whom."""
    return _destination_for(agency.environment, agency.custom_base_url or ""), agency.username or ""


@dataclass(frozen=True)
class ConnectionCheck:
    status: str
    message: str
    at: datetime

    @property
    def label(self) -> str:
        return CHECK_LABELS.get(self.status, self.status)

    @property
    def ok(self) -> bool:
        return self.status == "connected"


def check_connection(agency_id: int, *, actor=None, actor_label: str = "") -> ConnectionCheck:
    """Call the agency's /status with the stored credentials and keep the outcome on the agency row."""
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise LookupError(f"no agency {agency_id}")
    url = None
    if not agencies.is_configured(agency):
        status, message = "not_configured", "Enter the environment, username and password first."
    else:
        try:
            url = agencies.base_url(agency)
            client = agencies.client_for(
                agency, connect_timeout=TEST_CONNECT_TIMEOUT, read_timeout=TEST_READ_TIMEOUT
            )
            client.status()
            status, message = "connected", f"Signed in as {agency.username} at {agencies.base_url(agency)}."
            # While connected: has the service's schema moved from the copy our documents are checked against?
            _drift, schema_message = compare_schema(client)
            message = f"{message} {schema_message}"
        except agencies.UnsafeBaseUrl as e:
            status, message = "error", f"{e}. Nothing was sent."
        except NeedsAdminError as e:
            status, message = "wrong_credentials", f"The agency refused the username or password ({e})."
        except RetryableError as e:
            status, message = "unreachable", f"No answer from {agencies.base_url(agency)} ({e})."
        except credentials.CredentialsError as e:
            status, message = "error", f"{e}. Enter the password again."
        except (CyberTiplineError, ValueError) as e:
            status, message = "error", str(e)
    agency.last_check_at = utcnow()
    agency.last_check_status = status
    agency.last_check_message = message[:500]
    # Which address was called (None: nothing was sent): the record to look at if a password ever leaks.
    audit.record(
        "agency_connection_tested",
        "agency",
        agency.id,
        actor=actor,
        actor_label=actor_label,
        result=status,
        url=url,
    )
    db.session.commit()
    if status == "connected":
        reporting.resume_waiting_for_credentials(actor)
    return ConnectionCheck(status, agency.last_check_message, agency.last_check_at)


def rotate_agency_keys(*, actor=None, actor_label: str = "") -> int:
    """Re-encrypt every stored agency password under the newest key; returns how many were rotated."""
    rotated = 0
    for agency in db.session.scalars(select(Agency).where(Agency.password_encrypted.is_not(None))):
        agency.password_encrypted = credentials.rotate(agency.password_encrypted)
        audit.record("agency_password_reencrypted", "agency", agency.id, actor=actor, actor_label=actor_label)
        rotated += 1
    db.session.commit()
    return rotated


# A report goes out "as soon as reasonably possible" (18 U.S.C. §2258A): a gathering window of a day at most.
BUNDLE_WINDOW_MAX = 24 * 60

# --- reporting rules ----------------------------------------------------------------------------------------


def rule_snapshot(rule: ReportingRule) -> dict:
    return {
        "name": rule.name,
        "agency": rule.agency.name if rule.agency else None,
        "policies": [p.name for p in rule.policies],
        "review_queue": rule.review_queue.name if rule.review_queue else None,
        "contact": f"{rule.contact_first_name} {rule.contact_last_name} <{rule.contact_email}>",
        "contact_phone": rule.contact_phone or "",
        "escalate_min_confidence": rule.escalate_min_confidence,
        "escalation_policies": [p.name for p in rule.escalation_policies],
        "escalation_reason": rule.escalation_reason or "",
        "bundle_window_minutes": rule.bundle_window_minutes,
        "enabled": rule.enabled,
    }


@dataclass(frozen=True)
class RuleFields:
    """What an admin sets on a rule (the form, the CLI, the demo data); checked by `_apply` before use."""

    name: str
    agency_id: int | None
    policy_ids: list[int]
    review_queue_id: int | None
    contact_first_name: str
    contact_last_name: str
    contact_email: str
    contact_phone: str = ""
    # Automatic escalation to high priority (console/reporting/details.py: rule_escalation).
    escalate_min_confidence: float | None = None
    escalation_policy_ids: tuple[int, ...] = ()
    escalation_reason: str = ""
    # One report per incident for the automatic flow (console/reporting/gathering.py); None: off.
    bundle_window_minutes: int | None = None


def _apply(rule: ReportingRule, fields: RuleFields) -> None:
    errors: dict[str, str] = {}
    name = (fields.name or "").strip()
    agency_id, policy_ids, review_queue_id = fields.agency_id, fields.policy_ids, fields.review_queue_id
    contact_first_name, contact_last_name = fields.contact_first_name, fields.contact_last_name
    contact_email = fields.contact_email
    if not name:
        errors["name"] = "Enter a rule name."
    elif problem := name_problem(name):
        errors["name"] = f"The name {problem}; remove it."
    else:
        taken = db.session.scalar(
            select(ReportingRule.id).where(
                func.lower(ReportingRule.name) == name.lower(), ReportingRule.id != (rule.id or 0)
            )
        )
        if taken:
            errors["name"] = f"A rule named “{name}” already exists. Choose another name."
    agency = db.session.get(Agency, agency_id) if agency_id else None
    if agency is None:
        errors["agency"] = "Choose the agency to report to."
    policies = (
        list(db.session.scalars(select(Policy).where(Policy.id.in_(set(policy_ids or [])))))
        if policy_ids
        else []
    )
    if not policies or len(policies) != len(set(policy_ids)):
        errors["policies"] = (
            "Choose at least one policy." if not policy_ids else "Choose policies from the list."
        )
    queue = db.session.get(Queue, review_queue_id) if review_queue_id else None
    if queue is None:
        errors["review_queue"] = "Choose a review queue that exists."
    for key, value in (("contact_first_name", contact_first_name), ("contact_last_name", contact_last_name)):
        value = (value or "").strip()
        if not value:
            errors[key] = "Enter the contact's name."
        elif len(value) > NAME_MAX:
            # NCMEC's limit for a reporting person's first and last name.
            errors[key] = f"Enter at most {NAME_MAX} characters."
        elif text_problem(value):
            errors[key] = "Enter the name on one line, without control characters."
    if "@" not in (contact_email or ""):
        errors["contact_email"] = "Enter a valid email address."
    elif len(contact_email.strip()) > 254 or text_problem(contact_email):
        errors["contact_email"] = "Enter a valid email address."
    if name and text_problem(name):
        errors["name"] = "Enter the rule name on one line, without control characters."
    escalation_policies = _check_reporting_person_and_escalation(fields, errors)
    if errors:
        raise SettingsError(errors)
    rule.name = name
    rule.agency = agency
    rule.policies = sorted(policies, key=lambda p: p.name)
    rule.review_queue = queue
    rule.contact_first_name = contact_first_name.strip()
    rule.contact_last_name = contact_last_name.strip()
    rule.contact_email = contact_email.strip()
    rule.contact_phone = (fields.contact_phone or "").strip()
    rule.escalate_min_confidence = fields.escalate_min_confidence
    rule.escalation_policies = sorted(escalation_policies, key=lambda p: p.name)
    rule.escalation_reason = (fields.escalation_reason or "").strip()
    rule.bundle_window_minutes = fields.bundle_window_minutes or None


def _check_reporting_person_and_escalation(fields: RuleFields, errors: dict[str, str]) -> list[Policy]:
    """The reporting person's phone and the automatic escalation, checked as NCMEC will take them."""
    phone = (fields.contact_phone or "").strip()
    if len(phone) > PHONE_MAX:
        errors["contact_phone"] = f"Enter at most {PHONE_MAX} characters."
    elif text_problem(phone):
        errors["contact_phone"] = "Enter the phone number on one line, without control characters."
    threshold = fields.escalate_min_confidence
    if threshold is not None and not 0 <= threshold <= 1:
        errors["escalate_min_confidence"] = "Enter a confidence from 0 to 100 %."
    ids = set(fields.escalation_policy_ids or ())
    policies = list(db.session.scalars(select(Policy).where(Policy.id.in_(ids)))) if ids else []
    if len(policies) != len(ids):
        errors["escalation_policies"] = "Choose policies from the list."
    window = fields.bundle_window_minutes
    if window is not None and (isinstance(window, bool) or not 0 <= window <= BUNDLE_WINDOW_MAX):
        errors["bundle_window_minutes"] = f"Enter 1 to {BUNDLE_WINDOW_MAX} minutes, or leave it empty (off)."
    reason = (fields.escalation_reason or "").strip()
    if len(reason) > DESCRIPTION_MAX:
        errors["escalation_reason"] = f"Say why in at most {DESCRIPTION_MAX} characters (NCMEC's limit)."
    elif text_problem(reason, multiline=True):
        errors["escalation_reason"] = "Remove the control characters from the reason."
    elif (threshold is not None or ids) and not reason:
        # NCMEC's escalateToHighPriority is the reason itself: an escalation without one is refused.
        errors["escalation_reason"] = "Say why these reports are urgent: NCMEC needs the reason."
    return policies


def _commit_rule() -> None:
    try:
        db.session.commit()
    except IntegrityError as e:  # two admins saving the same name at once: the unique index decides
        db.session.rollback()
        raise SettingsError({"name": "A rule with this name already exists. Choose another name."}) from e


def create_rule(
    fields: RuleFields, *, enabled: bool = True, actor=None, actor_label: str = ""
) -> ReportingRule:
    rule = ReportingRule(enabled=enabled)
    with db.session.no_autoflush:
        _apply(rule, fields)
    db.session.add(rule)
    db.session.flush()
    audit.record(
        "reporting_rule_created",
        "reporting_rule",
        rule.id,
        actor=actor,
        actor_label=actor_label,
        after=rule_snapshot(rule),
    )
    _commit_rule()
    return rule


def update_rule(rule_id: int, fields: RuleFields, *, actor=None, actor_label: str = "") -> ReportingRule:
    """Change a rule. Reports already created keep the contact and incident type they were created with."""
    rule = _rule(rule_id)
    before = rule_snapshot(rule)
    try:
        with db.session.no_autoflush:
            _apply(rule, fields)
    except SettingsError:
        db.session.rollback()
        raise
    after = rule_snapshot(rule)
    if after != before:
        audit.record(
            "reporting_rule_changed",
            "reporting_rule",
            rule.id,
            actor=actor,
            actor_label=actor_label,
            before=before,
            after=after,
        )
    _commit_rule()
    return rule


def set_rule_enabled(rule_id: int, enabled: bool, *, actor=None, actor_label: str = "") -> ReportingRule:
    """Pause or resume a rule. A paused rule fires for nothing new; reports already created carry on."""
    action = "reporting_rule_enabled" if enabled else "reporting_rule_paused"
    return _set_rule_value(rule_id, "enabled", enabled, action, actor=actor, actor_label=actor_label)


def set_rule_bundle_window(
    rule_id: int, minutes: int | None, *, actor=None, actor_label: str = ""
) -> ReportingRule:
    """Set (or turn off, None) the window in which one user's AI-confirmed contents are one report."""
    if minutes is not None and not 1 <= minutes <= BUNDLE_WINDOW_MAX:
        raise SettingsError({"bundle_window_minutes": f"Enter 1 to {BUNDLE_WINDOW_MAX} minutes, or off."})
    return _set_rule_value(
        rule_id,
        "bundle_window_minutes",
        minutes,
        "reporting_rule_changed",
        actor=actor,
        actor_label=actor_label,
    )


def _set_rule_value(rule_id: int, name: str, value, action: str, *, actor, actor_label: str) -> ReportingRule:
    """One setting of a rule changed on its own (a switch, a command), with its audit event; a no-op else."""
    rule = _rule(rule_id)
    if getattr(rule, name) != value:
        audit.record(
            action,
            "reporting_rule",
            rule.id,
            actor=actor,
            actor_label=actor_label,
            name=rule.name,
            before={name: getattr(rule, name)},
            after={name: value},
        )
        setattr(rule, name, value)
        db.session.commit()
    return rule


def delete_rule(rule_id: int, *, actor=None, actor_label: str = "") -> None:
    """Delete a rule that never fired. One that produced reports is kept for them: pause it instead."""
    rule = _rule(rule_id)
    produced = report_count(rule.id)
    if produced:
        raise RuleInUse(
            f"“{rule.name}” produced {produced} report{'s' if produced != 1 else ''} and is kept for them. "
            "Pause it instead."
        )
    audit.record(
        "reporting_rule_deleted",
        "reporting_rule",
        rule.id,
        actor=actor,
        actor_label=actor_label,
        before=rule_snapshot(rule),
    )
    db.session.delete(rule)
    db.session.commit()


def _rule(rule_id: int) -> ReportingRule:
    rule = db.session.get(ReportingRule, rule_id)
    if rule is None:
        raise LookupError(f"no reporting rule {rule_id}")
    return rule
