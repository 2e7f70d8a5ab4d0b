"""The queues' open-case counters, changed in the transaction that moves a case: Queue.open_cases (the queues
page's "open") and QueueOpenHour (open cases by the hour they were reported in, for its past-SLA count).

Every path that opens, decides or moves a case calls one function here, so the two can never disagree. Rows
are changed in queue-id order, the queue before its hours, so two transactions moving cases between the same
queues take their locks in the same order and never deadlock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from console.extensions import db
from console.queues.models import Queue, QueueOpenHour, hour_of

# Core statements on the tables, built once: every case opened, decided or moved runs both, and an ORM UPDATE
# (with its session synchronisation) cost ten times the statement itself. Nothing in the session holds the
# counters for long: each change is followed by its transaction's commit, which expires every object.
QUEUES, HOURS = Queue.__table__, QueueOpenHour.__table__
CHANGE_QUEUE = (
    update(QUEUES)
    .where(QUEUES.c.id == bindparam("queue"))
    .values(open_cases=QUEUES.c.open_cases + bindparam("delta"))
)


def _upsert_hour(insert):
    upsert = insert(HOURS).values(
        queue_id=bindparam("queue"), hour=bindparam("hour"), open=bindparam("delta")
    )
    return upsert.on_conflict_do_update(
        index_elements=[HOURS.c.queue_id, HOURS.c.hour], set_={"open": HOURS.c.open + upsert.excluded.open}
    )


UPSERT_HOUR = {"postgresql": _upsert_hour(postgresql.insert), "sqlite": _upsert_hour(sqlite.insert)}


def opened(queue_id: int, reported_at: datetime) -> None:
    _change([(queue_id, +1)], reported_at)


def closed(queue_id: int, reported_at: datetime) -> None:
    _change([(queue_id, -1)], reported_at)


def moved(from_queue_id: int, to_queue_id: int, reported_at: datetime) -> None:
    if from_queue_id != to_queue_id:
        _change([(from_queue_id, -1), (to_queue_id, +1)], reported_at)


def _change(deltas: list[tuple[int, int]], reported_at: datetime) -> None:
    hour = hour_of(reported_at)
    connection = db.session.connection()
    upsert = UPSERT_HOUR[connection.dialect.name]
    for queue_id, delta in sorted(deltas):
        connection.execute(CHANGE_QUEUE, {"queue": queue_id, "delta": delta})
        connection.execute(upsert, {"queue": queue_id, "hour": hour, "delta": delta})
