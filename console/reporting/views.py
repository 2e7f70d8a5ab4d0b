"""Filing with NCMEC from the console: the "Report to NCMEC" dialog, the case's live status, the Reports page.

Views are thin: they parse the form, call reporting.service (which commits, then enqueues), and render what
reporting.queries computed. Reporting's parts of the case and queues pages are registered here as sections
(console/sections.py): those pages' views never import reporting.

Why this module is long (about 490 lines): the one blueprint of filing with NCMEC serves the dialog for one
case and for several contents of one user (the reported user's page) — one dialog, one preview, the same
refusals — plus the case's live status and the admins' Reports pages; splitting it would split the dialog.
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
from console.webutil import ID_MAX, is_htmx, page_or_fragment

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
            # The CyberTips filed about this person, from any of their cases, and the choice of several
            # confirmed contents to file as one report: permission holders only.
            context=lambda user, cases: {
                "ncmec_reports": _reports_about(user),
                "ncmec_bundle": _bundle_choices(user, cases),
            },
            slots={
                "panel": "reporting/_user_reports.html",
                "before_cases": "reporting/_bundle_form.html",
                "case_actions": "reporting/_bundle_choice.html",
                "scripts": "reporting/_dialog_script.html",
            },
        ),
    )


def _reports_about(user) -> list[ExternalReport] | None:
    return queries.reports_about_user(user.id) if access.has_access(current_user) else None


def _bundle_choices(user, cases) -> queries.BundleChoices | None:
    return queries.bundle_choices(user, cases) if access.has_access(current_user) else None


def _case_panel(case: Case, **extra) -> str:
    """The case's NCMEC panel as htmx swaps it: the banners come along out of band."""
    return render_template(
        "reporting/_case_panel.html", case=case, ncmec=queries.case_panel(case), oob=True, **extra
    )


# --- the dialog -------------------------------------------------------------------------------------------


def _dialog_context(
    case: Case, form=None, message: str | None = None, *, bundle: list[Case] | None = None
) -> dict:
    """The dialog for one case, or (``bundle``) for several confirmed contents of one user."""
    cases = bundle or [case]
    rule = rules.rule_for_case(case)
    media_ids = _media_ids(cases)
    # A form sent back (refused) previews what the moderator chose; a new dialog, the rule's and policy's.
    chosen = form.choices(media_ids) if form is not None else None
    preview = filing.preview(cases if bundle else case, rule, choices=chosen) if rule else None
    if form is None:
        form = report_form(
            media_ids,
            incident_type=preview.incident_type if preview else None,
            defaults=preview.choices if preview else None,
        )
    return dict(
        case=case,
        bundle=bundle,
        urls=_dialog_urls(case, bundle),
        rule=rule,
        preview=preview,
        form=form,
        incident_types=INCIDENT_TYPES,
        message=message,
        **sections.context_for("report_dialog", case=case),
        **_labels(),
    )


def _media_ids(cases: list[Case]) -> list[int]:
    return [m.id for c in cases for m in c.media]


def _dialog_urls(case: Case, bundle: list[Case] | None) -> dict:
    """Where the dialog posts, refreshes its preview and goes back to: the case's, or the user's page."""
    if not bundle:
        return {
            "post": url_for("reporting.create_report", case_id=case.id),
            "preview": url_for("reporting.preview_report", case_id=case.id),
            "back": url_for("cases.show", case_id=case.id),
        }
    user_id = case.reported_user_id
    # The preview gets the chosen cases from the form's hidden "case" inputs (reporting/_preview.html).
    return {
        "post": url_for("reporting.create_bundle", reported_user_id=user_id),
        "preview": url_for("reporting.preview_bundle", reported_user_id=user_id),
        "back": url_for("cases.reported_user", reported_user_id=user_id),
    }


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


# --- several contents of one user, one report (the reported user's page) --------------------------------

MAX_BUNDLE = 50  # contents in one report: far more than one incident has, few enough for one dialog


def _bundle_or_404(reported_user_id: int, ids: list[int]) -> list[Case]:
    """The chosen cases, all of this reported user and visible to this person, in the order chosen."""
    ids = list(dict.fromkeys(i for i in ids if 0 < i <= ID_MAX))[:MAX_BUNDLE]
    if not ids:
        abort(404)
    found = {c.id: c for c in db.session.scalars(db.select(Case).where(Case.id.in_(ids)))}
    cases = [found[i] for i in ids if i in found]
    if len(cases) != len(ids) or any(c.reported_user_id != reported_user_id for c in cases):
        abort(404)
    if not all(access.may_see(current_user, c) for c in cases):
        abort(403)
    # Oldest first: the incident's contents in the order they happened.
    return sorted(cases, key=lambda c: (c.reported_at, c.id))


def _bundle_refusal(cases: list[Case]) -> str | None:
    """Why these contents cannot be one report as they are (shown in the dialog), or None."""
    undecided = [c.id for c in cases if c.status != "violation"]
    if undecided:
        return (
            "Only confirmed violations can be reported: " + ", ".join(f"case #{i}" for i in undecided) + "."
        )
    found = [rules.rule_for_case(c) for c in cases]
    uncovered = [c.id for c, rule in zip(cases, found, strict=True) if rule is None]
    if uncovered:
        return (
            "No enabled NCMEC rule covers the confirmed violation of "
            + ", ".join(f"case #{i}" for i in uncovered)
            + "."
        )
    if len({rule.agency_id for rule in found}) > 1:
        return "These contents' rules report to different agencies: file them one by one."
    return None


@bp.route("/reported-users/<int:reported_user_id>/ncmec-bundle")
@role_required("moderator")
@child_safety_required
def new_bundle(reported_user_id: int):
    """The "Report to NCMEC" dialog for the contents chosen on the reported user's page (?case=…&case=…)."""
    ids = request.args.getlist("case", type=int)
    if not ids:
        back = url_for("cases.reported_user", reported_user_id=reported_user_id)
        message = (
            "Choose the contents to report first: check them in the list, then “Report selected to NCMEC”."
        )
        if not is_htmx():
            flash(message)
            return redirect(back)
        return render_template("reporting/_bundle_empty.html", message=message)  # htmx swaps a 200 only
    cases = _bundle_or_404(reported_user_id, ids)
    return _render_dialog(cases[0], bundle=cases, message=_bundle_refusal(cases))


@bp.route("/reported-users/<int:reported_user_id>/ncmec-bundle", methods=["POST"])
@role_required("moderator")
@child_safety_required
def create_bundle(reported_user_id: int):
    cases = _bundle_or_404(reported_user_id, request.form.getlist("case", type=int))
    form = report_form(_media_ids(cases))
    refusal = _bundle_refusal(cases)
    if refusal:
        return _refuse_in_dialog(cases[0], form, refusal, 409, bundle=cases)
    if not form.validate_on_submit():
        return _refuse_in_dialog(cases[0], form, None, 422, bundle=cases)
    rule = rules.rule_for_case(cases[0])
    try:
        report = service.file_bundle(
            cases, rule, form.incident_type.data, actor=current_user, choices=form.choices(_media_ids(cases))
        )
    except filing.ReportingError as e:
        return _refuse_in_dialog(cases[0], form, str(e), 422, bundle=cases)
    flash(
        f"Report #{report.id} queued for NCMEC: one report with {len(cases)} contents "
        f"({', '.join(f'case #{c.id}' for c in cases)})."
    )
    back = url_for("cases.reported_user", reported_user_id=reported_user_id)
    return ("", 204, {"HX-Redirect": back}) if is_htmx() else redirect(back)


@bp.route("/reported-users/<int:reported_user_id>/ncmec-bundle/preview")
@role_required("moderator")
@child_safety_required
def preview_bundle(reported_user_id: int):
    """The bundle dialog's "what will be sent" again, for the choices in the query (reads only)."""
    cases = _bundle_or_404(reported_user_id, request.args.getlist("case", type=int))
    rule = rules.rule_for_case(cases[0])
    if rule is None:
        abort(404)
    media_ids = _media_ids(cases)
    form = report_form(media_ids, formdata=request.args, meta={"csrf": False})
    form.validate()
    preview = filing.preview(cases, rule, form.incident_type.data or None, form.choices(media_ids))
    return render_template(
        "reporting/_preview.html",
        case=cases[0],
        preview=preview,
        form=form,
        urls=_dialog_urls(cases[0], cases),
        **_labels(),
    )


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


def _refuse_in_dialog(case: Case, form, message: str | None, status: int, bundle: list[Case] | None = None):
    return _render_dialog(case, status, IN_DIALOG, form=form, message=message, bundle=bundle)


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
    return render_template(
        "reporting/_preview.html",
        case=case,
        preview=preview,
        form=form,
        urls=_dialog_urls(case, None),
        **_labels(),
    )


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
