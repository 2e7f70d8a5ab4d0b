"""Settings → Platform webhooks (admins), the deliveries pages, and the platform's part of the case page.

Views are thin: they parse the form, call console/webhooks/endpoints.py or service.py (which commit, then
enqueue) and render what queries.py read. The case page's parts are sections (console/sections.py): the
actions a decision will run, inside the decision form; the case's events; the NCMEC dialog's list of them.
A new secret is shown once, in the answer to the request that made it, and never stored anywhere readable.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from console import sections
from console.cases import service as cases
from console.childsafety import access
from console.extensions import db
from console.policies.service import policy_tree
from console.security import refuse_child_safety, role_required
from console.webhooks import endpoints, queries, service
from console.webhooks.forms import ActionForm, EndpointForm, HostForm, PostForm
from console.webhooks.models import WebhookAction, WebhookEndpoint, WebhookEvent

bp = Blueprint("webhooks", __name__)


@bp.record_once
def _add_sections(state) -> None:
    sections.register(
        state.app,
        sections.Section(
            page="case",
            context=lambda case: {
                "platform_actions": queries.decision_actions(case.policy_id)
                if case.status == "open"
                else None,
                "platform_events": queries.case_events(case.id),
            },
            slots={
                "decision_form": "webhooks/_decision_actions.html",
                "panel": "webhooks/_case_events.html",
                "scripts": "webhooks/_decision_script.html",
            },
        ),
    )
    sections.register(
        state.app,
        sections.Section(
            page="report_dialog",
            context=lambda case: {"platform_events": queries.case_events(case.id)},
            slots={"dialog": "webhooks/_dialog_events.html"},
        ),
    )


# --- the case ---------------------------------------------------------------------------------------------


def _case_or_404(case_id: int):
    try:
        case = cases.load_case(case_id)
    except cases.NotFound:
        abort(404)
    if not access.may_see(current_user, case):
        refuse_child_safety()
    return case


@bp.get("/cases/<int:case_id>/platform-actions")
@role_required("moderator")
def decision_actions(case_id: int):
    """The decision form's actions for the policy being chosen (htmx swaps them as the picker changes)."""
    case = _case_or_404(case_id)
    policy_id = request.args.get("policy", type=int) or None
    return render_template(
        "webhooks/_decision_actions.html", case=case, platform_actions=queries.decision_actions(policy_id)
    )


@bp.get("/cases/<int:case_id>/deliveries")
@role_required("moderator")
def case_deliveries(case_id: int):
    case = _case_or_404(case_id)
    return render_template(
        "webhooks/deliveries.html",
        case=case,
        endpoint=None,
        events=queries.deliveries(case_id=case.id),
        form=PostForm(),
    )


# --- settings ---------------------------------------------------------------------------------------------


def _index(status: int = 200, **extra):
    return render_template(
        "webhooks/index.html",
        host_form=extra.pop("host_form", None) or HostForm(formdata=None),
        **queries.overview(),
        **extra,
    ), status


@bp.get("/settings/webhooks")
@role_required("admin")
def index():
    return _index()


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _add_errors(form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


@bp.route("/settings/webhooks/endpoints/new", methods=["GET", "POST"])
@bp.route("/settings/webhooks/endpoints/<int:endpoint_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_endpoint(endpoint_id: int | None = None):
    endpoint = _endpoint_or_404(endpoint_id) if endpoint_id else None
    if request.method == "GET" and endpoint is not None:
        form = EndpointForm(data={"name": endpoint.name, "url": endpoint.url, "enabled": endpoint.enabled})
    else:
        form = EndpointForm()
    if form.validate_on_submit():
        try:
            saved, made = endpoints.save_endpoint(
                endpoint,
                name=form.name.data,
                url=form.url.data,
                secret=form.secret.data or "",
                enabled=form.enabled.data,
                actor=current_user,
            )
        except endpoints.WebhookError as e:
            db.session.rollback()
            _add_errors(form, e.errors)
        else:
            if made:  # shown once, in this answer; nothing keeps it readable
                return render_template("webhooks/secret.html", endpoint=saved, secret=made)
            flash(f"Endpoint “{saved.name}” saved.")
            return redirect(url_for("webhooks.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("webhooks/endpoint_form.html", form=form, endpoint=endpoint), status


@bp.post("/settings/webhooks/endpoints/<int:endpoint_id>/rotate")
@role_required("admin")
def rotate_secret(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    if not PostForm().validate_on_submit():
        abort(400)
    secret = endpoints.rotate_secret(endpoint.id, actor=current_user)
    return render_template("webhooks/secret.html", endpoint=endpoint, secret=secret, rotated=True)


@bp.post("/settings/webhooks/endpoints/<int:endpoint_id>/enable")
@role_required("admin")
def enable_endpoint(endpoint_id: int):
    return _toggle(endpoint_id, True)


@bp.post("/settings/webhooks/endpoints/<int:endpoint_id>/disable")
@role_required("admin")
def disable_endpoint(endpoint_id: int):
    return _toggle(endpoint_id, False)


def _toggle(endpoint_id: int, enabled: bool):
    endpoint = _endpoint_or_404(endpoint_id)
    if not PostForm().validate_on_submit():
        abort(400)
    endpoints.set_endpoint_enabled(endpoint.id, enabled, actor=current_user)
    flash(f"Endpoint “{endpoint.name}” {'enabled' if enabled else 'disabled'}.")
    return redirect(url_for("webhooks.index"))


@bp.get("/settings/webhooks/endpoints/<int:endpoint_id>/deliveries")
@role_required("admin")
def endpoint_deliveries(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    return render_template(
        "webhooks/deliveries.html",
        case=None,
        endpoint=endpoint,
        events=queries.deliveries(endpoint_id=endpoint.id),
        form=PostForm(),
    )


@bp.post("/settings/webhooks/events/<int:event_id>/resend")
@role_required("admin")
def resend(event_id: int):
    event = db.session.get(WebhookEvent, event_id)
    if event is None:
        abort(404)
    if not PostForm().validate_on_submit():
        abort(400)
    back = request.form.get("back") == "case" and event.case_id
    if service.resend(event.id, actor=current_user):
        flash(f"Event {event.message_id} will be sent again, with the same webhook-id.")
    else:
        flash("Only a failed or stopped event can be resent.")
    if back:
        return redirect(url_for("webhooks.case_deliveries", case_id=event.case_id))
    return redirect(url_for("webhooks.endpoint_deliveries", endpoint_id=event.endpoint_id))


@bp.route("/settings/webhooks/actions/new", methods=["GET", "POST"])
@bp.route("/settings/webhooks/actions/<int:action_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_action(action_id: int | None = None):
    action = db.session.get(WebhookAction, action_id) if action_id else None
    if action_id and action is None:
        abort(404)
    if request.method == "GET" and action is not None:
        form = ActionForm(
            data={
                "name": action.name,
                "event_type": action.event_type,
                "endpoint": action.endpoint_id,
                "verdict": action.verdict,
                "policies": [p.id for p in action.policies],
                "enabled": action.enabled,
                "skippable": action.skippable,
            }
        )
    else:
        form = ActionForm()
    form.endpoint.choices = [
        SelectChoice(e.id, e.name) for e in db.session.scalars(db.select(WebhookEndpoint))
    ]
    form.policies.choices = [SelectChoice(n.policy.id, n.label) for n in policy_tree()]
    if form.validate_on_submit():
        try:
            endpoints.save_action(
                action,
                name=form.name.data,
                event_type=form.event_type.data,
                endpoint_id=form.endpoint.data,
                verdict=form.verdict.data,
                enabled=form.enabled.data,
                skippable=form.skippable.data,
                policy_ids=form.policies.data or [],
                actor=current_user,
            )
        except endpoints.WebhookError as e:
            db.session.rollback()
            _add_errors(form, {"endpoint" if k == "endpoint" else k: v for k, v in e.errors.items()})
        else:
            flash(f"Action “{form.name.data}” saved.")
            return redirect(url_for("webhooks.index"))
    status = 422 if request.method == "POST" else 200
    return render_template("webhooks/action_form.html", form=form, action=action), status


@bp.post("/settings/webhooks/hosts")
@role_required("admin")
def allow_host():
    form = HostForm()
    if not form.validate_on_submit():
        return _index(422, host_form=form)
    try:
        endpoints.allow_host(form.host.data, form.note.data or "", actor=current_user)
    except endpoints.WebhookError as e:
        db.session.rollback()
        _add_errors(form, e.errors)
        return _index(422, host_form=form)
    flash(f"{form.host.data.strip().lower()} may now receive events over http and at a non-public address.")
    return redirect(url_for("webhooks.index"))


@bp.post("/settings/webhooks/hosts/<int:host_id>/remove")
@role_required("admin")
def remove_host(host_id: int):
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        endpoints.disallow_host(host_id, actor=current_user)
    except LookupError:
        abort(404)
    return redirect(url_for("webhooks.index"))
