from __future__ import annotations

import json

from flask import Blueprint, abort, render_template, request, send_file
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, Length, Optional

from console import audit
from console.cases import service
from console.cases.models import Case
from console.extensions import db
from console.media import storage
from console.media.models import MediaFile, MediaView
from console.policies.service import policy_tree
from console.security import role_required
from console.webutil import is_htmx

bp = Blueprint("cases", __name__)


class DecisionForm(FlaskForm):
    verdict = HiddenField(validators=[AnyOf(["violation", "no_violation"], message="Choose a decision.")])
    policy = SelectField("Policy", coerce=int, validators=[Optional()])
    note = TextAreaField("Note", validators=[Length(max=2000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.verdict.data == "violation" and not self.policy.data:
            self.policy.errors = [*self.policy.errors, "Choose the policy that was violated."]
            ok = False
        return ok


def _decision_form(case: Case) -> DecisionForm:
    form = DecisionForm()
    form.policy.choices = [SelectChoice(0, "Choose a policy…")] + [
        SelectChoice(n.policy.id, n.label) for n in policy_tree()
    ]
    if request.method == "GET" and case.policy_id:
        form.policy.data = case.policy_id
    return form


def _case_context(case: Case, form: DecisionForm | None = None, **extra) -> dict:
    viewed = set(
        db.session.scalars(
            db.select(MediaView.media_id).where(
                MediaView.media_id.in_([m.id for m in case.media]), MediaView.user_id == current_user.id
            )
        )
    )
    return dict(
        case=case,
        form=form or _decision_form(case),
        history=audit.case_history(case.id),
        viewed_by_me=viewed,
        **extra,
    )


@bp.route("/cases/<int:case_id>")
@role_required("moderator")
def show(case_id: int):
    case = service.load_case(case_id)
    return render_template("cases/show.html", **_case_context(case))


@bp.route("/cases/<int:case_id>/decision", methods=["POST"])
@role_required("moderator")
def decide(case_id: int):
    case = service.load_case(case_id)
    form = _decision_form(case)
    status, message, dialog_url = 200, None, None
    if not form.validate_on_submit():
        status = 422
    else:
        try:
            outcome = service.decide(
                case.id, form.verdict.data, form.policy.data or None, current_user, form.note.data or ""
            )
            dialog_url = outcome.dialog_url
            message = "Decision recorded."
        except service.AlreadyDecided as e:
            status, message = 409, str(e)
        db.session.expire_all()
        case = service.load_case(case_id)
    context = _case_context(case, form, message=message, dialog_url=dialog_url)
    if is_htmx():
        # The status badge in the page heading changes too: swapped out of band.
        response = render_template("cases/_decision_and_history.html", oob_status=True, **context)
        headers = {}
        if dialog_url:
            headers["HX-Trigger-After-Settle"] = json.dumps({"open-dialog": dialog_url})
        # htmx swaps only 2xx by default; a refused decision still shows its message in place.
        return response, 200 if status in (409, 422) else status, headers
    return render_template("cases/show.html", **context), status


def _media_of(case_id: int, media_id: int) -> MediaFile:
    media = db.session.scalar(
        db.select(MediaFile).where(MediaFile.id == media_id, MediaFile.case_id == case_id)
    )
    if media is None:
        abort(404)
    return media


@bp.route("/cases/<int:case_id>/media/<int:media_id>/reveal", methods=["POST"])
@role_required("moderator")
def reveal(case_id: int, media_id: int):
    media = service.reveal(media_id, case_id, current_user)
    if is_htmx():
        return render_template("cases/_media_item.html", media=media, case_id=case_id, revealed=True)
    return show(case_id)


@bp.route("/cases/<int:case_id>/media/<int:media_id>/file")
@role_required("moderator")
def media_file(case_id: int, media_id: int):
    media = _media_of(case_id, media_id)
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
    media = _media_of(case_id, media_id)
    if not media.has_preview:
        abort(404)
    response = send_file(storage.preview_path_for(media), mimetype="image/png", max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response
