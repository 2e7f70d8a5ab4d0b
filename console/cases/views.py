"""The case page: what a moderator sees of one case, the decision, revealing media one file at a time."""

from __future__ import annotations

import json

from flask import Blueprint, abort, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from console import audit, sections
from console.cases import kinds, service
from console.cases.forms import DecisionForm
from console.cases.models import Case
from console.childsafety import access, viewing
from console.media import storage
from console.media.models import MediaFile
from console.policies.service import policy_tree
from console.security import refuse_child_safety, role_required
from console.webutil import is_htmx, page_or_fragment

bp = Blueprint("cases", __name__)


def _decision_form(case: Case) -> DecisionForm:
    form = DecisionForm()
    # Without the permission, confirming a child-safety policy hands the case to the child-safety team.
    escalates = set() if access.has_access(current_user) else access.marks().policy_ids
    form.policy.choices = [SelectChoice(0, "Choose a policy…")] + [
        SelectChoice(n.policy.id, n.label + (" → child-safety team" if n.policy.id in escalates else ""))
        for n in policy_tree()
    ]
    if request.method == "GET" and case.policy_id:
        form.policy.data = case.policy_id
    return form


def _case_or_404(case_id: int) -> Case:
    """The case, for a person who may see it: child-safety material needs the permission (a 403)."""
    try:
        case = service.load_case(case_id)
    except service.NotFound:
        abort(404)
    if not access.may_see(current_user, case):
        refuse_child_safety()
    return case


def _media_or_404(case_id: int, media_id: int) -> MediaFile:
    try:
        media = service.media_of(case_id, media_id)
    except service.NotFound:
        abort(404)
    if not access.may_see(current_user, media.case):
        refuse_child_safety()
    return media


def _case_context(case: Case, form: DecisionForm | None = None, **extra) -> dict:
    """Everything the case page shows, computed here once: other areas' sections included (NCMEC)."""
    return dict(
        case=case,
        form=form or _decision_form(case),
        history=audit.case_history(case.id),
        viewed_by_me=service.viewed_by(case, current_user.id),
        viewing=viewing.for_user(current_user.id),
        where=kinds.where(case),
        **sections.context_for("case", case=case),
        **extra,
    )


@bp.route("/cases/<int:case_id>")
@role_required("moderator")
def show(case_id: int):
    case = _case_or_404(case_id)
    return render_template("cases/show.html", **_case_context(case))


@bp.route("/cases/<int:case_id>/decision", methods=["POST"])
@role_required("moderator")
def decide(case_id: int):
    case = _case_or_404(case_id)
    form = _decision_form(case)
    status, message, refused, dialog_url = 200, None, False, None
    if not form.validate_on_submit():
        status = 422
    else:
        try:
            outcome = service.decide(
                case.id, form.verdict.data, form.policy.data or None, current_user, form.note.data or ""
            )
        except service.AlreadyDecided as e:
            case, status, message, refused = e.case, 409, str(e), True
        else:
            case, message = outcome.case, "Decision recorded."
            # Whatever the decision now asks of the moderator (file a report) opens in the dialog.
            asked = (sections.ask_url("case", ask, case=case) for ask in outcome.asks)
            dialog_url = next((url for url in asked if url), None)
    # Swapped in by htmx, the status badge in the page heading and the banners change too: out of band.
    context = _case_context(case, form, message=message, refused=refused, oob=is_htmx())
    headers = {"HX-Trigger-After-Settle": json.dumps({"open-dialog": dialog_url})} if dialog_url else {}
    return page_or_fragment(
        "cases/show.html", "cases/_decision_and_history.html", context, status, hx_headers=headers
    )


@bp.route("/cases/<int:case_id>/media/<int:media_id>/reveal", methods=["POST"])
@role_required("moderator")
def reveal(case_id: int, media_id: int):
    try:
        media = service.reveal(media_id, case_id, current_user)
    except service.NotFound:
        abort(404)
    except access.Restricted:
        refuse_child_safety()
    except service.OnBreak:
        # The break screen, then back to this case; the file stays hidden and unrecorded until then.
        url = url_for("childsafety.take_break", next=url_for("cases.show", case_id=case_id))
        return ("", 204, {"HX-Redirect": url}) if is_htmx() else redirect(url)
    if is_htmx():
        return render_template(
            "cases/_media_item.html",
            media=media,
            case_id=case_id,
            revealed=True,
            viewing=viewing.for_user(current_user.id),
        )
    return show(case_id)


@bp.route("/cases/<int:case_id>/media/<int:media_id>/file")
@role_required("moderator")
def media_file(case_id: int, media_id: int):
    media = _media_or_404(case_id, media_id)
    # Bytes go only to a person who revealed this file, so every real view leaves a record.
    if not service.has_viewed(media.id, current_user.id):
        abort(403)
    response = send_file(storage.path_for(media), mimetype=media.mime_type, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.route("/cases/<int:case_id>/media/<int:media_id>/preview")
@role_required("moderator")
def media_preview(case_id: int, media_id: int):
    media = _media_or_404(case_id, media_id)
    if not media.has_preview:
        abort(404)
    response = send_file(storage.preview_path_for(media), mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
