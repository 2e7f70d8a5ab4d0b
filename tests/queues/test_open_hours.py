"""The per-hour open-case counters (QueueOpenHour) stay equal to the cases through every move, and the
past-SLA count built from them equals a count of every row, whatever minute of the hour its window starts."""

from datetime import timedelta

from sqlalchemy import func, select

from console.cases import service as cases
from console.cases.models import Case
from console.extensions import db
from console.queues import queries
from console.queues.models import Queue, QueueOpenHour, hour_of
from console.timeutil import utcnow
from tests import factories


def _hours_as_stored(queue: Queue) -> dict:
    rows = db.session.execute(
        select(QueueOpenHour.hour, QueueOpenHour.open).where(
            QueueOpenHour.queue_id == queue.id, QueueOpenHour.open != 0
        )
    )
    return dict(rows.all())


def _hours_from_cases(queue: Queue) -> dict:
    out: dict = {}
    for at in db.session.scalars(
        select(Case.reported_at).where(Case.queue_id == queue.id, Case.status == "open")
    ):
        out[hour_of(at)] = out.get(hour_of(at), 0) + 1
    return out


def _past_sla_truth(queue: Queue, now) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.queue_id == queue.id,
            Case.status == "open",
            Case.reported_at < now - timedelta(minutes=queue.sla_minutes),
        )
    )


def test_the_hour_counters_follow_cases_opened_decided_and_escalated(ctx):
    mod = factories.user("moderator")
    a, b = factories.queue("A"), factories.queue("B")
    opened = [factories.case(a, hours_ago=h) for h in (0.2, 0.7, 1.5, 1.6, 26, 26.5, 80)]
    assert _hours_as_stored(a) == _hours_from_cases(a) and len(_hours_from_cases(a)) >= 4
    cases.decide(opened[0].id, "no_violation", None, mod)
    cases.decide(opened[5].id, "no_violation", None, mod)
    cases.escalate(opened[2].id, actor=mod, note="for B", to_queue_id=b.id)
    cases.escalate(opened[6].id, actor=mod, note="for B", to_queue_id=b.id)
    db.session.commit()
    for q in (a, b):
        assert _hours_as_stored(q) == _hours_from_cases(q), q.name
    assert sum(_hours_as_stored(b).values()) == db.session.get(Queue, b.id).open_cases == 2
    assert sum(_hours_as_stored(a).values()) == db.session.get(Queue, a.id).open_cases == 3


def test_past_sla_from_the_hour_counters_equals_counting_every_case(ctx):
    q = factories.queue()
    q.sla_minutes = 5 * 60 + 17  # a window that starts inside an hour
    db.session.commit()
    # Cases on both sides of every boundary the window can start at: minutes into each hour, for 9 hours.
    for hours in range(0, 9):
        for minutes in (1, 16, 17, 18, 44, 59):
            factories.case(q, hours_ago=hours + minutes / 60)
    for step in range(0, 24 * 60, 37):  # the window's start at many minutes of the hour
        now = utcnow() - timedelta(minutes=step % 180)
        (summary,) = [s for s in queries.summaries(now) if s.queue.id == q.id]
        assert summary.past_sla == _past_sla_truth(q, now), (step, now)
