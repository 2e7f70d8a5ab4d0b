"""Settings for admins: external reporting (the NCMEC connection and reporting rules) and the audit log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from console import audit, sections
from console.cases.kinds import CONTENT_KINDS
from console.childsafety import access
from console.extensions import db
from console.reporting import agencies
from console.reporting.forms import REPORT_ANNOTATION_LABELS
from console.reporting.models import Agency, ReportingRule
from console.security import role_required
from console.settings import cybertip_details, queries, service
from console.settings.forms import (
    AgencyConnectionForm,
    ContentTypeForm,
    PolicyAnnotationsForm,
    ReporterDetailsForm,
    RuleForm,
    add_service_errors,
)
from console.webutil import is_htmx, page_or_fragment

bp = Blueprint("settings", __name__, url_prefix="/settings")

AUDIT_PAGE_SIZE = 50
AUDIT_OBJECT_TYPES = {
    "agency": "Agency",
    "reporting_rule": "Reporting rule",
    "external_report": "External report",
    "case": "Case",
    "media": "Media",
    "api_token": "API token",
    "content_type": "Content type",
    "policy": "Policy",
    "user": "User",
}
# What each kind of audited object is called in the log's Object column ("Hash list #5", not "hash_source 5").
AUDIT_SUBJECTS = {
    **AUDIT_OBJECT_TYPES,
    "external_report": "Report",
    "care_settings": "Care settings",
    "evidence": "Evidence of report",
    "hash_source": "Hash list",
    "legal_hold": "Legal hold",
    "queue": "Queue",
    "sign_in_throttle": "Sign-in throttle",
    "webhook_action": "Platform action",
    "webhook_endpoint": "Webhook endpoint",
    "webhook_event": "Webhook event",
}


@bp.route("/")
@role_required("admin")
def index():
    from console.evidence import signer

    # Published so that anyone holding a package or a checkpoint can check it (packagecheck, console/tlog).
    return render_template("settings/index.html", signing_key=signer.current())


# --- external reporting ------------------------------------------------------------------------------------


def _connection_form(agency: Agency) -> AgencyConnectionForm:
    if request.method == "POST":
        return AgencyConnectionForm()
    return AgencyConnectionForm(
        data={
            "environment": agency.environment,
            "custom_base_url": agency.custom_base_url,
            "username": agency.username,
        }
    )


def _rule_form(rule: ReportingRule | None = None) -> RuleForm:
    if request.method == "POST":
        form = RuleForm()
    elif rule is not None:
        form = RuleForm(
            data={
                "name": rule.name,
                "agency": rule.agency_id,
                "policies": [p.id for p in rule.policies],
                "review_queue": rule.review_queue_id,
                "contact_first_name": rule.contact_first_name,
                "contact_last_name": rule.contact_last_name,
                "contact_email": rule.contact_email,
                "contact_phone": rule.contact_phone,
                "escalate_min_confidence": round(rule.escalate_min_confidence * 100, 2)
                if rule.escalate_min_confidence is not None
                else None,
                "escalation_policies": [p.id for p in rule.escalation_policies],
                "escalation_reason": rule.escalation_reason,
                "bundle_window_minutes": rule.bundle_window_minutes,
                "enabled": rule.enabled,
            }
        )
    else:
        form = RuleForm()
        defaults = queries.new_rule_defaults()
        form.agency.data, form.review_queue.data = defaults["agency"], defaults["review_queue"]
    form.agency.choices = [SelectChoice(a.id, a.name) for a in queries.agencies()]
    form.review_queue.choices = [SelectChoice(None, "Choose a queue…")] + [
        SelectChoice(q.id, f"{q.name} ({q.source_label})") for q in queries.queues()
    ]
    form.policies.choices = [SelectChoice(o.id, o.name) for o in queries.policy_options()]
    return form


def _context(**extra) -> dict:
    agency = agencies.ncmec()
    context = dict(
        agency=agency,
        base_url=_safe_base_url(agency),
        configured=agencies.is_configured(agency),
        connection_form=None,
        rules_overview=queries.rules_overview(),
        conflicts=queries.rule_conflicts(),
        policy_options=queries.policy_options(),
        check_labels=service.CHECK_LABELS,
        rule_form=None,
        editing=None,
        rule_message=None,
    )
    context.update(extra)
    context.update(sections.context_for("external_reporting"))
    if context["connection_form"] is None:
        context["connection_form"] = _connection_form(agency)
    return context


def _safe_base_url(agency: Agency) -> str:
    try:
        return agencies.base_url(agency)
    except ValueError:
        return ""


@bp.route("/external-reporting")
@role_required("admin")
def external_reporting():
    return render_template("settings/external_reporting.html", **_context())


@bp.route("/external-reporting/agencies/<int:agency_id>/connection", methods=["POST"])
@role_required("admin")
def save_connection(agency_id: int):
    agency = db.get_or_404(Agency, agency_id)
    form = _connection_form(agency)
    status, message = 200, None
    if form.validate_on_submit():
        try:
            service.configure_agency(
                agency.id,
                environment=form.environment.data,
                custom_base_url=form.custom_base_url.data or "",
                username=form.username.data,
                password=form.password.data or None,
                actor=current_user,
            )
            message = "Connection settings saved."
        except service.SettingsError as e:
            add_service_errors(form, e)
            status = 422
    else:
        status = 422
    if status == 200 and not is_htmx():
        flash(message)
        return redirect(url_for("settings.external_reporting"))
    context = _context(connection_form=form, connection_message=message)
    return page_or_fragment("settings/external_reporting.html", "settings/_agency.html", context, status)


@bp.route("/external-reporting/agencies/<int:agency_id>/test", methods=["POST"])
@role_required("admin")
def test_connection(agency_id: int):
    agency = db.get_or_404(Agency, agency_id)
    check = service.check_connection(agency.id, actor=current_user)
    if is_htmx():
        return render_template(
            "settings/_connection_status.html",
            agency=agency,
            check_labels=service.CHECK_LABELS,
            oob=True,
            configured=agencies.is_configured(agency),
            base_url=_safe_base_url(agency),
        )
    flash(f"Test connection: {check.label}. {check.message}")
    return redirect(url_for("settings.external_reporting"))


def _rules_response(status: int = 200, **extra):
    """htmx gets the rules section; without JavaScript, the rule form's page, or the whole settings page."""
    page = "rule_form.html" if extra.get("rule_form") is not None else "external_reporting.html"
    return page_or_fragment(f"settings/{page}", "settings/_rules.html", _context(**extra), status)


@bp.route("/external-reporting/rules/new")
@role_required("admin")
def new_rule():
    context = _context(rule_form=_rule_form())
    return page_or_fragment("settings/rule_form.html", "settings/_rule_form.html", context)


@bp.route("/external-reporting/rules", methods=["POST"])
@role_required("admin")
def create_rule():
    form = _rule_form()
    if form.validate_on_submit():
        try:
            rule = service.create_rule(form.to_fields(), enabled=form.enabled.data, actor=current_user)
        except service.SettingsError as e:
            add_service_errors(form, e)
        else:
            return _rule_saved(f"Rule “{rule.name}” added.")
    return _rules_response(422, rule_form=form)


@bp.route("/external-reporting/rules/<int:rule_id>/edit")
@role_required("admin")
def edit_rule(rule_id: int):
    rule = db.get_or_404(ReportingRule, rule_id)
    context = _context(rule_form=_rule_form(rule), editing=rule)
    return page_or_fragment("settings/rule_form.html", "settings/_rule_form.html", context)


@bp.route("/external-reporting/rules/<int:rule_id>", methods=["POST"])
@role_required("admin")
def update_rule(rule_id: int):
    rule = db.get_or_404(ReportingRule, rule_id)
    form = _rule_form(rule)
    if form.validate_on_submit():
        try:
            rule = service.update_rule(rule.id, form.to_fields(), actor=current_user)
        except service.SettingsError as e:
            add_service_errors(form, e)
        else:
            return _rule_saved(f"Rule “{rule.name}” saved.")
    return _rules_response(422, rule_form=form, editing=db.session.get(ReportingRule, rule_id))


@bp.route("/external-reporting/rules/<int:rule_id>/enabled", methods=["POST"])
@role_required("admin")
def toggle_rule(rule_id: int):
    db.get_or_404(ReportingRule, rule_id)
    value = request.form.get("enabled")
    if value not in ("0", "1"):
        abort(400)
    rule = service.set_rule_enabled(rule_id, value == "1", actor=current_user)
    return _rule_saved(f"Rule “{rule.name}” {'enabled' if rule.enabled else 'paused'}.")


@bp.route("/external-reporting/rules/<int:rule_id>/delete", methods=["POST"])
@role_required("admin")
def delete_rule(rule_id: int):
    rule = db.get_or_404(ReportingRule, rule_id)
    name = rule.name
    try:
        service.delete_rule(rule.id, actor=current_user)
    except service.RuleInUse as e:
        return _rules_response(409, rule_message=str(e), rule_message_bad=True)
    return _rule_saved(f"Rule “{name}” deleted.")


def _rule_saved(message: str):
    if is_htmx():
        return render_template("settings/_rules.html", **_context(rule_message=message))
    flash(message)
    return redirect(url_for("settings.external_reporting"))


# --- CyberTip details: the company in every report, content kinds, policy annotations ----------------------


def _cybertip_context(**extra) -> dict:
    agency = agencies.ncmec()
    context = dict(
        agency=agency,
        reporter_form=None,
        content_type_form=ContentTypeForm(),
        mappings=cybertip_details.content_type_mappings(),
        content_kinds=CONTENT_KINDS,
        policy_options=queries.policy_options(),
        policy_annotations=queries.policy_annotations(),
        report_annotation_labels=REPORT_ANNOTATION_LABELS,
        annotations_form=PolicyAnnotationsForm(),
    )
    context.update(extra)
    if context["reporter_form"] is None:
        context["reporter_form"] = ReporterDetailsForm(
            data=cybertip_details.reporter_details(agency).__dict__
        )
    return context


def _cybertip_saved(message: str):
    flash(message)
    return redirect(url_for("settings.cybertip_details"))


@bp.route("/cybertip-details", endpoint="cybertip_details")
@role_required("admin")
def cybertip_details_page():
    return render_template("settings/cybertip_details.html", **_cybertip_context())


@bp.route("/cybertip-details/reporter", methods=["POST"])
@role_required("admin")
def save_reporter_details():
    form = ReporterDetailsForm()
    if form.validate_on_submit():
        try:
            cybertip_details.save_reporter_details(agencies.ncmec().id, form.to_details(), actor=current_user)
        except service.SettingsError as e:
            add_service_errors(form, e)
        else:
            return _cybertip_saved("The company's details were saved; new reports carry them.")
    return render_template("settings/cybertip_details.html", **_cybertip_context(reporter_form=form)), 422


@bp.route("/cybertip-details/content-types", methods=["POST"])
@role_required("admin")
def map_content_type():
    form = ContentTypeForm()
    if form.validate_on_submit():
        try:
            row = cybertip_details.map_content_type(
                form.platform_type.data, form.kind.data, actor=current_user
            )
        except service.SettingsError as e:
            add_service_errors(form, e)
        else:
            return _cybertip_saved(f"“{row.platform_type}” is now {CONTENT_KINDS[row.kind].lower()}.")
    return render_template("settings/cybertip_details.html", **_cybertip_context(content_type_form=form)), 422


@bp.route("/cybertip-details/content-types/<int:mapping_id>/delete", methods=["POST"])
@role_required("admin")
def unmap_content_type(mapping_id: int):
    if not PolicyAnnotationsForm().validate_on_submit():  # only its CSRF token is checked here
        abort(400)
    try:
        cybertip_details.unmap_content_type(mapping_id, actor=current_user)
    except LookupError:
        abort(404)
    return _cybertip_saved("The mapping was removed.")


@bp.route("/cybertip-details/policies/<int:policy_id>/annotations", methods=["POST"])
@role_required("admin")
def set_policy_annotations(policy_id: int):
    form = PolicyAnnotationsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        policy = cybertip_details.set_policy_annotations(
            policy_id, form.annotations.data or [], actor=current_user
        )
    except LookupError:
        abort(404)
    return _cybertip_saved(f"Report annotations of “{policy.name}” saved.")


# --- audit log ---------------------------------------------------------------------------------------------


@bp.route("/audit-log")
@role_required("admin")
def audit_log():
    object_type = request.args.get("type", "")
    if object_type not in AUDIT_OBJECT_TYPES:
        object_type = ""
    before = request.args.get("before", type=int)
    events, next_before = audit.page_of_events(object_type, before, AUDIT_PAGE_SIZE)
    # The details of events on child-safety cases (file names, notes) are for holders of the permission.
    restricted = set()
    if not access.has_access(current_user):
        restricted = access.child_safety_case_ids(e.case_id for e in events)
    context = dict(
        events=events,
        restricted=restricted,
        next_before=next_before,
        object_type=object_type,
        object_types=AUDIT_OBJECT_TYPES,
        subjects=AUDIT_SUBJECTS,
        first_page=not before,
        **sections.context_for("audit_log"),
    )
    return page_or_fragment("settings/audit_log.html", "settings/_audit_table.html", context)
