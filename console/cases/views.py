"""The case page: what a moderator sees of one case, the decision, revealing media one file at a time.

Why this module is long (about 420 lines): every route here answers with the case page or one of its panels
(decision, media, claim, escalation, the law-enforcement request, the reported user's cases), and they share
one context builder (`_case_context`, `_review_context`) so that a fragment and the full page never differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from console import audit, sections
from console.cases import claims, drafts, kinds, queries, service, showings
from console.cases.forms import ClaimForm, DecisionForm, EscalateForm, LawEnforcementForm, NextCaseForm
from console.cases.law_enforcement import set_law_enforcement
from console.cases.models import Case
from console.childsafety import access, exposure, viewing
from console.database import reads_only
from console.extensions import db
from console.media import storage
from console.media.models import MediaFile
from console.policies.service import policy_tree
from console.queues.models import Queue
from console.security import refuse_child_safety, role_required
from console.timeutil import utcnow
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
    if request.method == "GET" and case.status == "open":
        # What the moderator wrote before their claim ran out or their tab closed (cases/drafts.py).
        form.note.data = drafts.note_of(case.id, current_user.id)
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


def _on_break_from(case: Case) -> bool:
    """During a break, the child-safety files this person revealed before show hidden and are not served."""
    # The marks are read already (may_see): a case that is not child-safety material asks nothing more.
    return access.is_child_safety(case) and exposure.active_break(current_user.id) is not None


def _law_enforcement_form(case: Case, form: LawEnforcementForm | None = None) -> LawEnforcementForm | None:
    """The form of a law-enforcement request's details, on the cases that came from law enforcement."""
    if form is not None:
        return form
    if not (case.is_law_enforcement_request or case.law_enforcement):
        return None
    form = LawEnforcementForm(formdata=None)
    form.fill(case.law_enforcement or {})
    return form


def _case_context(
    case: Case, form: DecisionForm | None = None, shown: dict[int, str] | None = None, **extra
) -> dict:
    """Everything the case page shows, computed here once: other areas' sections included (NCMEC)."""
    extra["le_form"] = _law_enforcement_form(case, extra.get("le_form"))
    return dict(
        case=case,
        form=form or _decision_form(case),
        history=audit.case_history(case.id),
        # Every page view starts with every file hidden: only a reveal made on it shows bytes (showings.py).
        shown=shown or {},
        where=kinds.where(case),
        viewing=viewing.for_user(current_user.id),
        **sections.context_for("case", case=case),
        **_review_context(case, extra),
    )


@bp.route("/cases/<int:case_id>")
@role_required("moderator")
@reads_only
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
                case.id,
                form.verdict.data,
                form.policy.data or None,
                current_user,
                form.note.data or "",
                unticked=_unticked(),
            )
        except service.AlreadyDecided as e:
            case, status, message, refused = e.case, 409, str(e), True
        except claims.ClaimedByOther as e:
            # Never a silent overwrite: the case stays as the claimer has it, the note stays in the form.
            message = f"{e} Your decision was not recorded; your note is kept."
            case, status, refused = service.load_case(case.id), 409, True
        except access.Restricted:
            # A child-safety policy, chosen by someone without the permission: the team takes the case over.
            try:
                return _escalated_to_child_safety(case, form)
            except (ValueError, service.AlreadyDecided, claims.ClaimedByOther) as e:
                case, status, message, refused = service.load_case(case.id), 409, f"Not escalated: {e}", True
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


def _unticked() -> set[int]:
    """The follow-up actions a section offered on the decision form (offered_action) and the moderator
    unticked (not in run_action): the decision's receivers know what they are (console/webhooks)."""
    offered = {int(v) for v in request.form.getlist("offered_action") if v.isdigit()}
    run = {int(v) for v in request.form.getlist("run_action") if v.isdigit()}
    return offered - run


def _escalated_to_child_safety(case: Case, form: DecisionForm):
    back = url_for("queues.show", queue_id=case.queue_id)  # the queue it came from (escalating moves it)
    escalated = service.escalate_to_child_safety(
        case.id, actor=current_user, note=form.note.data or "", policy_id=form.policy.data or None
    )
    flash(
        f"Case #{escalated.id} went to the child-safety team ({escalated.queue.name}) with your note. "
        "Nothing was filed by you, and the case is no longer shown to you."
    )
    return ("", 204, {"HX-Redirect": back}) if is_htmx() else redirect(back)


@bp.route("/cases/<int:case_id>/law-enforcement", methods=["POST"])
@role_required("moderator")
def law_enforcement(case_id: int):
    """A law-enforcement request's agency, case number and officer, entered or corrected on the case."""
    case = _case_or_404(case_id)
    form = LawEnforcementForm()
    if not form.validate_on_submit():
        return render_template("cases/show.html", **_case_context(case, le_form=form, le_open=True)), 422
    set_law_enforcement(case.id, form.values(case.law_enforcement or {}), actor=current_user)
    flash("The law-enforcement request is recorded; reports filed from now on carry it.")
    return redirect(url_for("cases.show", case_id=case.id) + "#law-enforcement")


@bp.route("/cases/<int:case_id>/media/<int:media_id>/reveal", methods=["POST"])
@role_required("moderator")
def reveal(case_id: int, media_id: int):
    try:
        revealed = service.reveal(media_id, case_id, current_user, page=_asking_page())
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
            media=revealed.media,
            case_id=case_id,
            token=revealed.token,
            viewing=viewing.for_user(current_user.id),
        )
    context = _case_context(_case_or_404(case_id), shown={revealed.media.id: revealed.token})
    return render_template("cases/show.html", **context)


def _asking_page() -> str:
    """The console page a request came from (htmx names it; else the Referer), as a path: for the record."""
    url = request.headers.get("HX-Current-URL") or request.referrer or ""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return ""
    return (parts.path + (f"?{parts.query}" if parts.query else ""))[:300]


@bp.route("/cases/<int:case_id>/media/<int:media_id>/file")
@role_required("moderator")
def media_file(case_id: int, media_id: int):
    media = _media_or_404(case_id, media_id)
    # Bytes go only with the token of a reveal this person made on the page asking (showings.py): every
    # showing of them is a recorded reveal; a reload or a copied link starts hidden again.
    token = request.args.get("reveal")
    reveal_id = showings.reveal_for(token, media.id, current_user.id)
    if reveal_id is None or _on_break_from(media.case):
        abort(403)
    # A video's later range requests continue a download already on record.
    if request.headers.get("Range", "bytes=0-").replace(" ", "").startswith("bytes=0-"):
        service.record_download(media, reveal_id, current_user, page=_asking_page())
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


# --- the reviewer's day: claims, "Next case", escalation, the reported user's page -------------------------


@dataclass(frozen=True)
class ClaimPanel:
    """What the claim panel of a case page shows and does (templates/cases/_claim.html).

    state: "closed" (decided: nothing to claim), "held" (this page holds the claim: it renews it and saves
    the draft), "mine" (the moderator holds it — from "Next case", a work list's POST or another page: this
    page takes it over on load, which changes no one's claim), "other" (someone else reviews it: the page
    polls until they are done), "free" (a button: a GET never claims anything, whatever link led here).
    """

    state: str
    claim: claims.Claim | None = None
    renew_seconds: int = 60
    poll_seconds: int = 30
    may_release: bool = False  # an admin, looking at someone else's claim


def _claim_panel(case: Case, held: claims.Claim | None = None) -> ClaimPanel:
    renew = max(5, int(current_app.config["CLAIM_SECONDS"] / 5))
    if case.status != "open":
        return ClaimPanel("closed")
    if held is not None:
        return ClaimPanel("held", held, renew_seconds=renew)
    claim = claims.current(case)
    if claim is None:
        return ClaimPanel("free")
    if claim.held_by(current_user.id):
        return ClaimPanel("mine", claim)
    return ClaimPanel("other", claim, may_release=current_user.is_admin)


def _escalate_form(case: Case, form: EscalateForm | None = None) -> EscalateForm:
    form = form or EscalateForm()
    targets = queries.escalation_targets(case, current_user.id)
    form.to_queue.choices = [SelectChoice(0, "Keep it in this queue")] + [
        SelectChoice(q.id, q.name) for q in targets.queues
    ]
    form.to_user.choices = [SelectChoice(0, "Nobody in particular")] + [
        SelectChoice(u.id, u.name) for u in targets.colleagues
    ]
    return form


def _review_context(case: Case, extra: dict) -> dict:
    """The claim panel, the SLA, the way back to the previous case, the escalation form (unless given)."""
    out = dict(extra)
    out.setdefault("claim_panel", _claim_panel(case))
    out.setdefault(
        "sla", case.queue.sla_status(case.reported_at, utcnow()) if case.status == "open" else None
    )
    out.setdefault("previous_case_id", request.args.get("prev", type=int))
    if case.status == "open" and "escalate_form" not in out:
        out["escalate_form"] = _escalate_form(case)
    return out


def _panel_response(case: Case, panel: ClaimPanel, status: int = 200):
    """The claim panel for htmx; without JavaScript, back to the case page (POST-redirect-GET)."""
    if is_htmx():
        return render_template("cases/_claim.html", case=case, claim_panel=panel), 200
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/cases/<int:case_id>/claim")
@role_required("moderator")
def claim_status(case_id: int):
    case = _case_or_404(case_id)
    return render_template("cases/_claim.html", case=case, claim_panel=_claim_panel(case))


@bp.route("/cases/<int:case_id>/claim", methods=["POST"])
@role_required("moderator")
def claim(case_id: int):
    case = _case_or_404(case_id)
    if not ClaimForm().validate_on_submit():
        abort(422)
    try:
        held = claims.claim(case.id, current_user)
    except claims.ClaimedByOther as e:
        return _panel_response(service.load_case(case.id), ClaimPanel("other", e.claim))
    return _panel_response(service.load_case(case.id), _claim_panel(case, held=held))


@bp.route("/cases/<int:case_id>/claim/renew", methods=["POST"])
@role_required("moderator")
def renew_claim(case_id: int):
    case = _case_or_404(case_id)
    form = ClaimForm()
    if not form.validate_on_submit():
        abort(422)
    held = claims.renew(case.id, current_user, form.token.data or "", form.note.data)
    return _panel_response(service.load_case(case.id), _claim_panel(case, held=held))


@bp.route("/cases/<int:case_id>/claim/release", methods=["POST"])
@role_required("moderator")
def release_claim(case_id: int):
    """Give a claim back: the page that is left (its token), the moderator's own button, or an admin's."""
    case = _case_or_404(case_id)
    form = ClaimForm()
    if not form.validate_on_submit():
        abort(422)
    claims.release(case.id, current_user, token=form.token.data or None, note=form.note.data)
    case = service.load_case(case.id)
    return _panel_response(case, _claim_panel(case))


@bp.route("/queues/<int:queue_id>/next", methods=["POST"])
@role_required("moderator")
def next_case(queue_id: int):
    """ "Start reviewing" / "Next case": claim the next free case of the queue and open it."""
    queue = db.get_or_404(Queue, queue_id)
    if not access.may_open_queue(current_user, queue):
        refuse_child_safety()
    form = NextCaseForm()
    if not form.validate_on_submit():
        abort(422)
    held = claims.next_case(queue.id, current_user, after_case_id=form.after.data)
    if held is None:
        flash(f"No case in {queue.name} is waiting for a reviewer right now.")
        if access.has_access(current_user) and not exposure.may_offer_child_safety(current_user):
            flash(
                "You reached today's limit of child-safety reveals: none is offered to you before tomorrow."
            )
        return redirect(url_for("queues.show", queue_id=queue.id))
    return redirect(url_for("cases.show", case_id=held.case_id, prev=form.after.data))


@bp.route("/cases/<int:case_id>/escalate", methods=["POST"])
@role_required("moderator")
def escalate(case_id: int):
    case = _case_or_404(case_id)
    form = _escalate_form(case, EscalateForm())
    from_queue_id = case.queue_id
    if form.validate_on_submit():
        try:
            escalated = service.escalate(
                case.id,
                actor=current_user,
                note=form.note.data,
                to_queue_id=form.to_queue.data or None,
                to_user_id=form.to_user.data or None,
            )
        except (ValueError, service.AlreadyDecided, claims.ClaimedByOther) as e:
            form.note.errors = [*form.note.errors, str(e)]
        else:
            # The case is someone else's now: on to the next case of the queue it came from, as "Next case"
            # would (claimed for this reviewer), or back to that queue when none is waiting.
            flash(
                f"Case #{escalated.id} escalated: {escalated.queue.name}"
                + (f", assigned to {escalated.assigned_to.name}" if escalated.assigned_to else "")
                + "."
            )
            from_queue = db.session.get(Queue, from_queue_id)
            held = None
            if access.may_open_queue(current_user, from_queue):
                held = claims.next_case(from_queue_id, current_user, after_case_id=escalated.id)
            if held is None:
                flash(f"No other case in {from_queue.name} is waiting for a reviewer right now.")
                return redirect(url_for("queues.show", queue_id=from_queue_id))
            return redirect(url_for("cases.show", case_id=held.case_id, prev=escalated.id))
    case = service.load_case(case.id)
    context = _case_context(case, escalate_form=form, escalate_open=True)
    return render_template("cases/show.html", **context), 422


@bp.route("/reported-users/<int:reported_user_id>")
@role_required("moderator")
def reported_user(reported_user_id: int):
    """Everything one reported user did: every case, its content and media, decisions, CyberTips filed.

    Without the child-safety permission: their cases that are not child-safety material, and who they are
    only when there is one — the account's name, email and addresses come from cases (second sweep).
    """
    visible = access.visible_to(current_user)
    try:
        page = queries.reported_user_cases(
            reported_user_id, request.args.get("before", type=int), visible=visible
        )
    except LookupError:
        abort(404)
    if visible is not None and not page.cases and not queries.has_visible_case(reported_user_id, visible):
        refuse_child_safety()
    context = dict(
        page=page,
        viewing=viewing.for_user(current_user.id),
        **sections.context_for("reported_user", user=page.user, cases=page.cases),
    )
    return render_template("cases/reported_user.html", **context)
