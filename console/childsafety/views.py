"""Settings → Child safety (admins), a moderator's own viewing and exposure page, and the break screen."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from console.accounts.models import User
from console.childsafety import exposure, queries, service, viewing
from console.childsafety.forms import AccessForm, ActionForm, CareForm, MarksForm, TeamForm, ViewingForm
from console.extensions import db
from console.policies.service import policy_tree
from console.security import role_required, safe_next

bp = Blueprint("childsafety", __name__)


def _field_errors(form, error: service.CareError) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]


# --- a moderator's own page and the break screen ------------------------------------------------------------


def _mine(form: ViewingForm, status: int = 200):
    context = dict(
        form=form,
        reset_form=ActionForm(formdata=None),
        week=exposure.my_week(current_user.id),
        care=viewing.care_settings(),
        own=viewing.has_own(current_user.id),
    )
    return render_template("childsafety/mine.html", **context), status


@bp.route("/me/viewing")
@role_required("moderator")
def mine():
    form = ViewingForm(formdata=None)
    form.fill(viewing.for_user(current_user.id))
    return _mine(form)


@bp.route("/me/viewing", methods=["POST"])
@role_required("moderator")
def save_mine():
    form = ViewingForm()
    if form.validate_on_submit():
        try:
            service.save_preferences(current_user.id, form.choice())
        except service.CareError as e:
            _field_errors(form, e)
        else:
            flash("Your viewing preferences are saved.")
            return redirect(url_for("childsafety.mine"))
    return _mine(form, 422)


@bp.route("/me/viewing/reset", methods=["POST"])
@role_required("moderator")
def reset_mine():
    if not ActionForm().validate_on_submit():
        abort(400)
    service.reset_preferences(current_user.id)
    flash("Your viewing preferences follow the console's defaults again.")
    return redirect(url_for("childsafety.mine"))


@bp.route("/care/break")
@role_required("moderator")
def take_break():
    """The break screen: a timer, the support resources, the way back (reveals wait until it ends)."""
    return render_template(
        "childsafety/break.html",
        pause=exposure.active_break(current_user.id),
        week=exposure.my_week(current_user.id),
        care=viewing.care_settings(),
        back=safe_next(request.args.get("next")),
    )


# --- Settings → Child safety (admins) -----------------------------------------------------------------------


def _marks_form() -> MarksForm:
    form = MarksForm(formdata=None)
    form.queues.data = [q.id for q in queries.queues() if q.child_safety]
    form.policies.data = [n.policy.id for n in policy_tree() if n.policy.child_safety]
    return form


def _access_page(status: int = 200, **forms):
    context = dict(
        people=queries.people(),
        queues=queries.queues(),
        policies=policy_tree(),
        marks_form=forms.get("marks_form") or _marks_form(),
        action_form=AccessForm(formdata=None),
        team_form=TeamForm(formdata=None),
        team_errors=forms.get("team_errors", {}),
    )
    return render_template("childsafety/access.html", **context), status


@bp.route("/settings/child-safety")
@role_required("admin")
def access_settings():
    return _access_page()


@bp.route("/settings/child-safety/users/<int:user_id>/access", methods=["POST"])
@role_required("admin")
def set_access(user_id: int):
    user = db.get_or_404(User, user_id)
    form = AccessForm()
    if not form.validate_on_submit():
        abort(400)
    granted = form.granted.data == "1"
    service.set_access(user.id, granted, actor=current_user)
    flash(f"{user.name} {'now has' if granted else 'no longer has'} the child-safety permission.")
    return redirect(url_for("childsafety.access_settings"))


@bp.route("/settings/child-safety/users/<int:user_id>/team", methods=["POST"])
@role_required("admin")
def set_team(user_id: int):
    user = db.get_or_404(User, user_id)
    form = TeamForm()
    if form.validate_on_submit():
        try:
            service.set_team(user.id, form.team.data or "", actor=current_user)
        except service.CareError as e:
            form.team.errors = [*form.team.errors, *e.errors.values()]
        else:
            flash(f"{user.name}'s team is saved.")
            return redirect(url_for("childsafety.access_settings"))
    return _access_page(422, team_errors={user.id: form.team.errors or ["The form expired; try again."]})


@bp.route("/settings/child-safety/marks", methods=["POST"])
@role_required("admin")
def save_marks():
    form = MarksForm()
    if form.validate_on_submit():
        try:
            service.mark_queues(form.ids(form.queues), actor=current_user)
            service.mark_policies(form.ids(form.policies), actor=current_user)
        except service.CareError as e:
            db.session.rollback()
            _field_errors(form, e)
        else:
            flash("Child-safety queues and policies saved.")
            return redirect(url_for("childsafety.access_settings"))
    return _access_page(422, marks_form=form)


def _care_form(formdata: bool) -> CareForm:
    form = CareForm() if formdata else CareForm(formdata=None)
    if not formdata:
        care = viewing.care_settings()
        form.fill(viewing.Viewing.of(care))
        form.support_label.data, form.support_url.data = care.support_label, care.support_url
        form.escalation_queue.data = care.escalation_queue_id
    form.escalation_queue.choices = [SelectChoice(None, "The first child-safety queue")] + [
        SelectChoice(q.id, q.name) for q in queries.child_safety_queues()
    ]
    return form


def _care_page(form: CareForm, status: int = 200):
    return render_template("childsafety/care.html", form=form, totals=exposure.team_totals()), status


@bp.route("/settings/child-safety/care")
@role_required("admin")
def care_settings():
    return _care_page(_care_form(formdata=False))


@bp.route("/settings/child-safety/care", methods=["POST"])
@role_required("admin")
def save_care_settings():
    form = _care_form(formdata=True)
    if form.validate_on_submit():
        fields = service.CareFields(
            defaults=form.choice(),
            support_url=form.support_url.data or "",
            support_label=form.support_label.data or "",
            escalation_queue_id=form.escalation_queue.data,
        )
        try:
            service.save_care_settings(fields, actor=current_user)
        except service.CareError as e:
            _field_errors(form, e)
        else:
            flash("Moderator care settings saved.")
            return redirect(url_for("childsafety.care_settings"))
    return _care_page(form, 422)
