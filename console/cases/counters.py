"""The queues' open-case counters, changed in the transaction that moves a case: Queue.open_cases (the queues
page's "open") and QueueOpenHour (open cases by the hour they were reported in, for its past-SLA count).

Every path that opens, decides or moves a case calls one function here, so the two can never disagree. Rows
are changed in queue-id order, the queue before its hours, so two transactions moving cases between the same
queues take their locks in the same order and never deadlock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite

from console.extensions import db
from console.queues.models import Queue, QueueOpenHour, hour_of


def opened(queue_id: int, reported_at: datetime) -> None:
    _change([(queue_id, +1)], reported_at)


def closed(queue_id: int, reported_at: datetime) -> None:
    _change([(queue_id, -1)], reported_at)


def moved(from_queue_id: int, to_queue_id: int, reported_at: datetime) -> None:
    if from_queue_id != to_queue_id:
        _change([(from_queue_id, -1), (to_queue_id, +1)], reported_at)


def _change(deltas: list[tuple[int, int]], reported_at: datetime) -> None:
    hour = hour_of(reported_at)
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    for queue_id, delta in sorted(deltas):
        db.session.execute(
            update(Queue).where(Queue.id == queue_id).values(open_cases=Queue.open_cases + delta)
        )
        upsert = insert(QueueOpenHour).values(queue_id=queue_id, hour=hour, open=delta)
        db.session.execute(
            upsert.on_conflict_do_update(
                index_elements=[QueueOpenHour.queue_id, QueueOpenHour.hour],
                set_={"open": QueueOpenHour.open + delta},
            )
        )
