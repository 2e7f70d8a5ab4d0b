"""Changing a queue: its SLA target and the order "Next case" hands its cases out in (admins only)."""

from __future__ import annotations

from console import audit, tasks
from console.extensions import db
from console.queues.models import REVIEW_ORDERS, Queue


def update_settings(queue_id: int, *, sla_minutes: int, review_order: str, actor) -> Queue:
    if review_order not in REVIEW_ORDERS:
        raise ValueError(f"order must be one of {', '.join(REVIEW_ORDERS)}")
    if sla_minutes < 1:
        raise ValueError("the SLA must be at least a minute")
    queue = db.session.get(Queue, queue_id)
    if queue is None:
        raise LookupError(f"no queue {queue_id}")
    before = {"sla_minutes": queue.sla_minutes, "review_order": queue.review_order}
    queue.sla_minutes, queue.review_order = sla_minutes, review_order
    audit.record(
        "queue_settings_changed",
        "queue",
        queue.id,
        actor=actor,
        queue=queue.name,
        before=before,
        after={"sla_minutes": sla_minutes, "review_order": review_order},
    )
    tasks.commit_then_enqueue()
    return queue
