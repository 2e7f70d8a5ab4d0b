"""Filing with NCMEC from the console: the "Report to NCMEC" dialog, the case's live status, the Reports page.

Views are thin: they parse the form, call reporting.service (which commits, then enqueues), and render what
reporting.queries computed. Reporting's parts of the case and queues pages are registered here as sections
(console/sections.py): those pages' views never import reporting.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from console import sections
from console.cases import kinds
from console.cases.models import Case
from console.childsafety import access
from console.extensions import db
from console.ncmec import IncidentType
from console.reporting import filing, queries, rules, service
from console.reporting.forms import (
    FILE_ANNOTATION_LABELS,
    REPORT_ANNOTATION_LABELS,
    ActionForm,
    RetractForm,
    report_form,
)
from console.reporting.models import ExternalReport, ReportFile
from console.security import child_safety_required, role_required, safe_next
from console.webutil import is_htmx, page_or_fragment

bp = Blueprint("reporting", __name__)

INCIDENT_TYPES = list(IncidentType)


@bp.record_once
def _add_sections(state) -> None:
    """NCMEC's banner and panel on the case page, its count on the queues page, a user's CyberTips."""
    sections.register(
        state.app,
        sections.Section(
            page="case",
            context=lambda case: {"ncmec": queries.case_panel(case)},
            slots={
                "banner": "reporting/_case_banners.html",
                "panel": "reporting/_case_panel.html",
                # The dialog opens on this page; its keys' script must be loaded with the page.
                "scripts": "reporting/_dialog_script.html",
            },
            asks={service.ASK_TO_FILE: lambda case: url_for("reporting.new_report", case_id=case.id)},
        ),
    )
    sections.register(
        state.app,
        sections.Section(
            page="queues",
            # A count of child-safety cases: for holders of the permission only (None: not shown).
            context=lambda: {
                "ncmec_required": (
                    queries.reports_required_count() if access.has_access(current_user) else None
                )
            },
            slots={"before_table": "reporting/_queues_count.html"},
        ),
    )
    sections.register(
        state.app,
        sections.Section(
            page="reported_user",
            # The CyberTips filed about this person, from any of their cases: permission holders only.
            context=lambda user: {"ncmec_reports": _reports_about(user)},
            slots={"panel": "reporting/_user_reports.html"},
        ),
    )


def _reports_about(user) -> list[ExternalReport] | None:
    return queries.reports_about_user(user.id) if access.has_access(current_user) else None


def _case_panel(case: Case, **extra) -> str:
    """The case's NCMEC panel as htmx swaps it: the banners come along out of band."""
    return render_template(
        "reporting/_case_panel.html", case=case, ncmec=queries.case_panel(case), oob=True, **extra
    )


# --- the dialog -------------------------------------------------------------------------------------------


def _dialog_context(case: Case, form=None, message: str | None = None) -> dict:
    rule = rules.rule_for_case(case)
    media_ids = [m.id for m in case.media]
    # A form sent back (refused) previews what the moderator chose; a new dialog, the rule's and policy's.
    chosen = form.choices(media_ids) if form is not None else None
    preview = filing.preview(case, rule, choices=chosen) if rule else None
    if form is None:
        form = report_form(
            media_ids,
            incident_type=preview.incident_type if preview else None,
            defaults=preview.choices if preview else None,
        )
    return dict(
        case=case,
        rule=rule,
        preview=preview,
        form=form,
        incident_types=INCIDENT_TYPES,
        message=message,
        **sections.context_for("report_dialog", case=case),
        **_labels(),
    )


def _labels() -> dict:
    return dict(
        report_annotation_labels=REPORT_ANNOTATION_LABELS,
        file_annotation_labels=FILE_ANNOTATION_LABELS,
        content_kind_label=kinds.label,
    )


# A dialog's answer replaces the dialog, wherever the form that was posted said to swap its result.
IN_DIALOG = {"HX-Retarget": "#modal-body", "HX-Reswap": "innerHTML"}


def _render_dialog(case: Case, status: int = 200, hx_headers: dict | None = None, **kw):
    context = _dialog_context(case, **kw)
    return page_or_fragment("reporting/new.html", "reporting/_dialog.html", context, status, hx_headers)


@bp.route("/cases/<int:case_id>/ncmec-report")
@role_required("moderator")
@child_safety_required
def new_report(case_id: int):
    case = db.get_or_404(Case, case_id)
    return _render_dialog(case)


@bp.route("/cases/<int:case_id>/ncmec-report", methods=["POST"])
@role_required("moderator")
@child_safety_required
def create_report(case_id: int):
    case = db.get_or_404(Case, case_id)
    media_ids = [m.id for m in case.media]
    form = report_form(media_ids)
    rule = rules.rule_for_case(case)
    if rule is None:
        return _refuse_in_dialog(
            case, form, "No enabled NCMEC rule covers this case's confirmed violation.", 409
        )
    if not form.validate_on_submit():
        return _refuse_in_dialog(case, form, None, 422)
    try:
        report, created = service.file_report(
            case, rule, form.incident_type.data, actor=current_user, choices=form.choices(media_ids)
        )
    except filing.ReportingError as e:
        return _refuse_in_dialog(case, form, str(e), 422)
    if created:
        message = "Report queued for NCMEC."
    else:
        message = f"Already reported: this content has report #{report.id} ({report.state_label})."
    if not is_htmx():
        flash(message)
        return redirect(url_for("cases.show", case_id=case.id))
    if created:
        return _case_panel(case, ncmec_message=message), 200, {"HX-Trigger": "close-dialog"}
    # Someone else was first: keep the dialog open and say so, with a link to their report.
    return _render_dialog(case, hx_headers=IN_DIALOG, message=message)


def _refuse_in_dialog(case: Case, form, message: str | None, status: int):
    return _render_dialog(case, status, IN_DIALOG, form=form, message=message)


@bp.route("/cases/<int:case_id>/ncmec-report/preview")
@role_required("moderator")
@child_safety_required
def preview_report(case_id: int):
    """The dialog's "what will be sent" again, for the choices in the query (htmx, on each change)."""
    case = db.get_or_404(Case, case_id)
    rule = rules.rule_for_case(case)
    if rule is None:
        abort(404)
    media_ids = [m.id for m in case.media]
    # Reads only: the choices come in the query string, and nothing is changed, so no CSRF token is needed.
    form = report_form(media_ids, formdata=request.args, meta={"csrf": False})
    form.validate()
    preview = filing.preview(case, rule, form.incident_type.data or None, form.choices(media_ids))
    return render_template("reporting/_preview.html", case=case, preview=preview, form=form, **_labels())


@bp.route("/cases/<int:case_id>/ncmec-status")
@role_required("moderator")
@child_safety_required
def case_status(case_id: int):
    case = db.get_or_404(Case, case_id)
    if not is_htmx():
        return redirect(url_for("cases.show", case_id=case.id))
    return _case_panel(case)


# --- the cases behind the queues page's count -----------------------------------------------------------


@bp.route("/queues/ncmec-required")
@role_required("moderator")
@child_safety_required
def required_cases():
    """The cases behind the queues page's "NCMEC reports required" count, each waiting for its report."""
    after = request.args.get("after")
    page = queries.page_of_required_cases(after, current_app.config["PAGE_SIZE"])
    # htmx loads the next rows after the last one; the first page is always the page.
    fragment = "reporting/_required_cases_rows.html" if after else "reporting/required_cases.html"
    return page_or_fragment("reporting/required_cases.html", fragment, {"page": page})


# --- the Reports page (admins) ----------------------------------------------------------------------------


@bp.route("/reports")
@role_required("admin")
@child_safety_required
def reports():
    state = request.args.get("state", "")
    if state not in queries.STATE_FILTERS:
        state = ""
    page = queries.page_of_reports(state, request.args.get("after", type=int))
    context = dict(
        page=page,
        state=state,
        filters=queries.STATE_FILTERS,
        attention=queries.attention_count(),
        first_page=not request.args.get("after"),
        action_form=ActionForm(),
    )
    return page_or_fragment("reporting/reports.html", "reporting/_reports_table.html", context)


def _report_or_404(report_id: int) -> ExternalReport:
    return db.get_or_404(ExternalReport, report_id)


@bp.route("/reports/<int:report_id>")
@role_required("admin")
@child_safety_required
def report_detail(report_id: int):
    report = _report_or_404(report_id)
    return render_template(
        "reporting/detail.html",
        report=report,
        history=queries.report_history(report.id),
        action_form=ActionForm(),
        retract_form=RetractForm(),
        **sections.context_for("report", report=report),
    )


def _xml_download(xml: str | None, filename: str) -> Response:
    if not xml:
        abort(404)
    return Response(
        xml,
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@bp.route("/reports/<int:report_id>/report.xml")
@role_required("admin")
@child_safety_required
def report_xml(report_id: int):
    report = _report_or_404(report_id)
    return _xml_download(report.report_xml, f"report-{report.id}.xml")


@bp.route("/reports/<int:report_id>/files/<int:file_id>/fileinfo.xml")
@role_required("admin")
@child_safety_required
def file_xml(report_id: int, file_id: int):
    f = db.session.get(ReportFile, file_id)
    if f is None or f.report_id != report_id:
        abort(404)
    return _xml_download(f.fileinfo_xml, f"report-{report_id}-file-{f.position + 1}.xml")


@bp.route("/reports/<int:report_id>/retry", methods=["POST"])
@role_required("admin")
@child_safety_required
def retry(report_id: int):
    report = _report_or_404(report_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if service.resume(report.id, current_user):
        flash(f"Report #{report_id} is queued again.")
    else:
        flash(f"Report #{report_id} is {report.state_label.lower()}: there is nothing to retry.")
    # Only back to our own Reports page: never an open redirect.
    fallback = url_for("reporting.report_detail", report_id=report_id)
    return redirect(safe_next(request.form.get("next"), fallback, within="/reports"))


@bp.route("/reports/<int:report_id>/retract", methods=["POST"])
@role_required("admin")
@child_safety_required
def retract(report_id: int):
    report = _report_or_404(report_id)
    form = RetractForm()
    if not form.validate_on_submit():
        return (
            render_template(
                "reporting/detail.html",
                report=report,
                history=queries.report_history(report.id),
                action_form=ActionForm(),
                retract_form=form,
                **sections.context_for("report", report=report),
            ),
            422,
        )
    try:
        service.retract(report.id, current_user, form.reason.data)
        flash(f"Report #{report_id} was retracted; the content can be reported again.")
    except filing.ReportingError as e:
        db.session.rollback()
        flash(f"Report #{report_id} was not retracted: {e}.")
    return redirect(url_for("reporting.report_detail", report_id=report_id))
