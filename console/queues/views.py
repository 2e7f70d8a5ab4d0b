"""The queues page and a queue's cases, a page at a time (htmx loads the next rows in place)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from console import sections
from console.cases.models import CASE_STATUSES
from console.childsafety import access
from console.database import reads_only
from console.extensions import db
from console.policies.service import tree_of
from console.queues import queries, service
from console.queues.forms import QueueSettingsForm
from console.queues.models import Queue
from console.security import refuse_child_safety, role_required
from console.timeutil import utcnow
from console.webutil import page_or_fragment

bp = Blueprint("queues", __name__)


@bp.route("/")
@role_required("moderator")
def home():
    return redirect(url_for("queues.index"))


@bp.route("/queues")
@role_required("moderator")
@reads_only
def index():
    # Without the child-safety permission: no child-safety queue, and counts of what the rows show.
    summaries = queries.summaries(visible=access.visible_to(current_user, without_tree=True))
    return render_template("queues/index.html", summaries=summaries, **sections.context_for("queues"))


def _visible_queue(queue_id: int) -> Queue:
    queue = db.get_or_404(Queue, queue_id)
    if not access.may_open_queue(current_user, queue):
        refuse_child_safety()
    return queue


def _settings_form(queue: Queue) -> QueueSettingsForm:
    form = QueueSettingsForm()
    if request.method == "GET":
        form.sla_hours.data = max(1, queue.sla_minutes // 60)
        form.review_order.data = queue.review_order
    return form


@bp.route("/queues/<int:queue_id>")
@role_required("moderator")
@reads_only
def show(queue_id: int, settings_form: QueueSettingsForm | None = None, status_code: int = 200):
    # Two statements: the queue with the policy tree and the marks (queries.queue_head), then its rows; a
    # reader without the child-safety permission, a third (the heading's count of what they may see).
    head = queries.queue_head(queue_id)
    if head is None:
        abort(404)
    queue = head.queue
    if not access.may_open_queue(current_user, queue):
        refuse_child_safety()
    access.remember_marks(head.policies, head.marked_queue_ids)
    now = utcnow()
    status = request.args.get("status", "open")
    if status not in CASE_STATUSES and status != "all":
        status = "open"
    policy_id = request.args.get("policy", type=int)
    # The queue's own order is the order of its work: open cases. Decided ones read oldest first.
    order = queue.review_order if status == "open" else "oldest"
    visible = access.visible_to(current_user)
    page = queries.page_of_cases(
        queue.id,
        status,
        policy_id,
        request.args.get("after"),
        current_app.config["PAGE_SIZE"],
        order,
        visible=visible,
        policies=head.policies,
    )
    context = dict(
        queue=queue,
        open_count=queries.open_count(queue, visible, now),
        page=page,
        status=status,
        policy_id=policy_id,
        statuses=CASE_STATUSES,
        policies=tree_of(head.policies),
        order=order,
        now=now,
        sla_since=queue.sla_since(now),
        settings_form=(settings_form or _settings_form(queue)) if current_user.is_admin else None,
    )
    # htmx loads the next rows after the last one, or the whole table for a new filter.
    fragment = "queues/_rows.html" if request.args.get("after") else "queues/_table.html"
    return page_or_fragment("queues/show.html", fragment, context, status_code)


@bp.route("/queues/<int:queue_id>/settings", methods=["POST"])
@role_required("admin")
def settings(queue_id: int):
    queue = _visible_queue(queue_id)
    form = _settings_form(queue)
    if not form.validate_on_submit():
        return show(queue_id, settings_form=form, status_code=422)
    try:
        service.update_settings(
            queue.id,
            sla_minutes=form.sla_hours.data * 60,
            review_order=form.review_order.data,
            actor=current_user,
        )
    except LookupError:
        abort(404)
    flash(f"{queue.name}: SLA {queue.sla_label}, {queue.review_order_label.lower()}.")
    return redirect(url_for("queues.show", queue_id=queue.id))


@bp.route("/assigned")
@role_required("moderator")
@reads_only
def assigned():
    """Open cases escalated to me by name, oldest report first (on the partial index of assignments)."""
    page = queries.assigned_page(
        current_user.id,
        request.args.get("after"),
        current_app.config["PAGE_SIZE"],
        visible=access.visible_to(current_user, without_tree=True),
    )
    context = dict(page=page, now=utcnow())
    fragment = "queues/_assigned_rows.html" if request.args.get("after") else "queues/assigned.html"
    return page_or_fragment("queues/assigned.html", fragment, context)
