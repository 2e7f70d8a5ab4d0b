"""Evidence for admins: what is preserved and until when, legal holds, law-enforcement packages.

Every page is for admins only. Opening a record's page and downloading a package are recorded (package.py);
the content itself only leaves in a package, with a reason.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_login import current_user

from console import sections, tasks
from console.evidence import package, queries, retention
from console.evidence.forms import ActionForm, HoldForm, PackageForm, ReleaseForm
from console.evidence.models import LegalHold
from console.extensions import db
from console.reporting.models import ExternalReport
from console.security import child_safety_required, role_required
from console.webutil import is_htmx

bp = Blueprint("evidence", __name__, url_prefix="/evidence")

VERIFY_JOB = "jobs.evidence.verify_audit_log"


@bp.record_once
def _add_sections(state) -> None:
    """The evidence's date on the case and report pages, and the log's state on the audit log page."""
    from console.evidence import logcheck

    sections.register(
        state.app,
        sections.Section(
            page="case",
            context=lambda case: {"evidence": queries.for_case(case.id)},
            slots={"panel": "evidence/_panel.html"},
        ),
    )
    sections.register(
        state.app,
        sections.Section(
            page="report",
            context=lambda report: {"evidence": queries.for_report(report.id)},
            slots={"panel": "evidence/_panel.html"},
        ),
    )
    sections.register(
        state.app,
        sections.Section(
            page="audit_log",
            context=lambda: {"log": logcheck.status(), "log_form": ActionForm()},
            slots={"before_table": "evidence/_log_status.html"},
        ),
    )


@bp.route("/")
@role_required("admin")
@child_safety_required
def index():
    return render_template("evidence/index.html", view=queries.overview())


def _record_context(report: ExternalReport, **forms) -> dict:
    page = queries.record_page(report.id)
    context = dict(
        report=report,
        page=page,
        hold_form=HoldForm(formdata=None),
        release_form=ReleaseForm(formdata=None),
        package_form=PackageForm(formdata=None),
        message=None,
    )
    context.update(forms)
    return context


def _report_or_404(report_id: int) -> ExternalReport:
    return db.get_or_404(ExternalReport, report_id)


@bp.route("/reports/<int:report_id>")
@role_required("admin")
@child_safety_required
def record(report_id: int):
    report = _report_or_404(report_id)
    record = package.record_of(report.id)
    if record is not None:
        package.record_view(
            record, actor=current_user, why="opened the evidence record (item names and hashes)"
        )
    return render_template("evidence/record.html", **_record_context(report))


@bp.route("/reports/<int:report_id>/holds", methods=["POST"])
@role_required("admin")
@child_safety_required
def place_hold(report_id: int):
    report = _report_or_404(report_id)
    form = HoldForm()
    if form.validate_on_submit():
        scope = {"report_id": report.id}
        if form.scope.data == "user":
            scope = {"reported_user_id": report.case.reported_user_id}
        try:
            if scope.get("reported_user_id", 0) is None:
                raise retention.HoldError("This report's case names no reported user.")
            hold = retention.place_hold(
                **scope,
                reason=form.reason.data,
                reference=form.reference.data or "",
                ends_at=form.ends_at(),
                actor=current_user,
            )
        except retention.HoldError as e:
            db.session.rollback()
            form.form_errors.append(str(e))
        else:
            return _done(report.id, f"Hold placed on {hold.scope_label}.")
    return _record_page(report, 422, hold_form=form)


@bp.route("/holds/<int:hold_id>/release", methods=["POST"])
@role_required("admin")
@child_safety_required
def release_hold(hold_id: int):
    hold = db.get_or_404(LegalHold, hold_id)
    back = hold.report_id
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            retention.release_hold(hold.id, reason=form.reason.data, actor=current_user)
        except retention.HoldError as e:
            db.session.rollback()
            form.form_errors.append(str(e))
        else:
            message = f"Hold #{hold_id} released."
            if back is None:
                flash(message)
                return redirect(url_for("evidence.index"))
            return _done(back, message)
    if back is None:
        flash(
            "Not released: " + "; ".join(form.form_errors or [e for es in form.errors.values() for e in es])
        )
        return redirect(url_for("evidence.index"))
    return _record_page(_report_or_404(back), 422, release_form=form, release_hold_id=hold_id)


@bp.route("/reports/<int:report_id>/package", methods=["POST"])
@role_required("admin")
@child_safety_required
def download_package(report_id: int):
    report = _report_or_404(report_id)
    form = PackageForm()
    if form.validate_on_submit():
        try:
            made = package.build(report.id, reason=form.reason.data, actor=current_user)
        except package.PackageError as e:
            form.form_errors.append(str(e))
        else:
            response = send_file(
                made.file, mimetype="application/zip", as_attachment=True, download_name=made.filename
            )
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Manifest-SHA256"] = made.manifest_sha256
            return response
    return _record_page(report, 422, package_form=form)


@bp.route("/audit-log/verify", methods=["POST"])
@role_required("admin")
def verify_log():
    if not ActionForm().validate_on_submit():
        abort(400)
    if tasks.enqueue(VERIFY_JOB, current_user.email, job_id="verify-audit-log"):
        flash("The audit log is being verified; reload this page in a moment.")
    else:
        flash("Could not start the verification (Redis); run `flask audit verify` instead.")
    return redirect(url_for("settings.audit_log"))


def _record_page(report: ExternalReport, status: int, **context):
    return render_template("evidence/record.html", **_record_context(report, **context)), status


def _done(report_id: int, message: str):
    flash(message)
    if is_htmx():
        return "", 204, {"HX-Redirect": url_for("evidence.record", report_id=report_id)}
    return redirect(url_for("evidence.record", report_id=report_id))
