"""The queues page and a queue's cases, a page at a time (htmx loads the next rows in place)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from console import sections
from console.cases.models import CASE_STATUSES
from console.childsafety import access
from console.extensions import db
from console.policies.service import policy_tree
from console.queues import queries
from console.queues.models import Queue
from console.security import refuse_child_safety, role_required
from console.webutil import page_or_fragment

bp = Blueprint("queues", __name__)


@bp.route("/")
@role_required("moderator")
def home():
    return redirect(url_for("queues.index"))


@bp.route("/queues")
@role_required("moderator")
def index():
    # Child-safety queues are listed only to holders of the permission (console/childsafety/access.py).
    summaries = [s for s in queries.summaries() if access.may_open_queue(current_user, s.queue)]
    return render_template("queues/index.html", summaries=summaries, **sections.context_for("queues"))


def _visible_queue(queue_id: int) -> Queue:
    queue = db.get_or_404(Queue, queue_id)
    if not access.may_open_queue(current_user, queue):
        refuse_child_safety()
    return queue


@bp.route("/queues/<int:queue_id>")
@role_required("moderator")
def show(queue_id: int):
    queue = _visible_queue(queue_id)
    status = request.args.get("status", "open")
    if status not in CASE_STATUSES and status != "all":
        status = "open"
    policy_id = request.args.get("policy", type=int)
    page = queries.page_of_cases(
        queue.id,
        status,
        policy_id,
        request.args.get("after"),
        current_app.config["PAGE_SIZE"],
        visible=access.visible_to(current_user),
    )
    context = dict(
        queue=queue,
        page=page,
        status=status,
        policy_id=policy_id,
        statuses=CASE_STATUSES,
        policies=policy_tree(),
    )
    # htmx loads the next rows after the last one, or the whole table for a new filter.
    fragment = "queues/_rows.html" if request.args.get("after") else "queues/_table.html"
    return page_or_fragment("queues/show.html", fragment, context)
