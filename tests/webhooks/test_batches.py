"""A backlog for one endpoint is delivered in batches: one claim for up to WEBHOOK_BATCH due events, the
others' queued jobs taken out, still one signed POST per event with its own webhook-id and outcome. A
failure stops the batch and gives the rest back; a worker killed mid-batch loses nothing (its leases run
out, the sweep enqueues them again), and each event is recorded delivered once."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from console import tasks
from console.cases import service as cases
from console.extensions import db
from console.webhooks import delivery, sweep
from console.webhooks.models import WebhookAttempt, WebhookEvent
from tests import factories
from tests.reporting.fault_harness import Workers
from tests.webhooks.receiver import Answer


def _spam_events(platform, n: int) -> list[int]:
    """n decisions on spam: one content.remove event each, for the same endpoint, their jobs queued."""
    moderator = factories.user()
    spam = platform["policies"]["spam"]
    ids = []
    for _ in range(n):
        case = factories.case(factories.queue(), policy=spam)
        cases.decide(case.id, "violation", spam.id, moderator)
        ids.append(db.session.scalar(select(WebhookEvent.id).where(WebhookEvent.case_id == case.id)))
    db.session.rollback()
    return ids


def _states(ids: list[int]) -> dict[int, tuple]:
    db.session.expire_all()
    rows = db.session.execute(
        select(WebhookEvent.id, WebhookEvent.state, WebhookEvent.attempts, WebhookEvent.lease_owner).where(
            WebhookEvent.id.in_(ids)
        )
    ).all()
    db.session.rollback()
    return {r.id: (r.state, r.attempts, r.lease_owner) for r in rows}


def _queued_events() -> list[int]:
    return sorted(
        job.args[0] for job in tasks.task_queue().get_jobs() if job.func_name == "jobs.webhooks.deliver"
    )


def _attempts(event_id: int) -> list[tuple]:
    rows = db.session.execute(
        select(WebhookAttempt.status_code, WebhookAttempt.error)
        .where(WebhookAttempt.event_id == event_id)
        .order_by(WebhookAttempt.id)
    ).all()
    db.session.rollback()
    return [tuple(r) for r in rows]


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_one_job_delivers_a_batch_and_takes_the_others_jobs_out(platform, receiver, ctx):
    ctx.config["WEBHOOK_BATCH"] = 3
    ids = _spam_events(platform, 5)
    assert _queued_events() == ids  # one job per event, as every decision enqueues

    assert delivery.deliver(ids[0]) == "delivered"

    got = receiver.wait_for(3)
    messages = dict(db.session.execute(select(WebhookEvent.id, WebhookEvent.message_id)).all())
    assert [r.id for r in got] == [
        messages[i] for i in ids[:3]
    ]  # oldest first, one POST each, each its own id
    assert all(r.verified_with == [0] for r in got)
    states = _states(ids)
    assert [states[i] for i in ids] == [("delivered", 1, None)] * 3 + [("pending", 0, None)] * 2
    assert all(_attempts(i) == [(200, "")] for i in ids[:3])
    # The two taken with it no longer have a job waiting; the job of the one asked for (run here, not by a
    # worker) and those of the two left over still do.
    assert _queued_events() == [ids[0], ids[3], ids[4]]
    # That job, when a worker runs it, takes the two left over.
    assert delivery.deliver(ids[0]) is None
    assert [s[0] for s in _states(ids).values()] == ["delivered"] * 5
    assert len(receiver.wait_for(5)) == 5


def test_a_failure_stops_the_batch_and_gives_the_rest_back_untouched(platform, receiver, ctx):
    ctx.config["WEBHOOK_BATCH"] = 5
    receiver.answers = [Answer(200), Answer(500)]
    ids = _spam_events(platform, 4)

    assert delivery.deliver(ids[0]) == "delivered"

    assert len(receiver.wait_for(2)) == 2
    time.sleep(0.2)
    assert len(receiver.received) == 2  # nothing more sent to a failing endpoint by this batch
    states = _states(ids)
    assert states[ids[0]] == ("delivered", 1, None)
    assert states[ids[1]] == ("pending", 1, None)  # retried later with backoff, as on its own
    assert _attempts(ids[1]) == [(500, "answered 500")]
    # The two never called are as if never claimed: no attempt counted or on record, jobs of their own again.
    assert states[ids[2]] == states[ids[3]] == ("pending", 0, None)
    assert _attempts(ids[2]) == _attempts(ids[3]) == []
    assert set(_queued_events()) >= {ids[2], ids[3]}
    assert delivery.deliver(ids[2]) == "delivered"  # and the next job delivers them
    assert _states(ids)[ids[3]][0] == "delivered"


def test_a_worker_killed_mid_batch_loses_nothing_and_records_each_delivery_once(platform, receiver, ctx):
    ctx.config.update({"SWEEP_GRACE_SECONDS": 0})
    ids = _spam_events(platform, 4)  # queued before any worker runs: a backlog
    receiver.answers = [Answer(200), Answer(200, delay=30)]  # the second call of the batch hangs
    workers = Workers(ctx)
    workers.env.update({"WEBHOOK_LEASE_SECONDS": "2", "WEBHOOK_TIMEOUT_SECONDS": "60", "WEBHOOK_BATCH": "10"})
    try:
        first = workers.start()
        _wait(lambda: len(receiver.received) == 2)  # one delivered, the worker inside the second call
        workers.kill(first)
        states = _states(ids)
        assert states[ids[0]][0] == "delivered"
        assert all(states[i][0] == "pending" and states[i][2] is not None for i in ids[1:])  # leased, dead
        assert _queued_events() == []  # the batch took the others' jobs out: only the sweep brings them back
        workers.start()
        _wait(lambda: workers.working())
        time.sleep(2.1)  # the dead worker's leases run out
        assert sweep.sweep() == 3
        _wait(lambda: all(s[0] == "delivered" for s in _states(ids).values()))
    finally:
        workers.stop_all()
    messages = dict(db.session.execute(select(WebhookEvent.id, WebhookEvent.message_id)).all())
    received = [r.id for r in receiver.received]
    # At least once: the call the worker died in is made again with the same id; every other id once.
    assert sorted(received) == sorted([messages[i] for i in ids] + [messages[ids[1]]])
    states = _states(ids)
    assert states[ids[0]] == ("delivered", 1, None)
    assert states[ids[1]] == ("delivered", 2, None)
    assert _attempts(ids[1]) == [(None, "no outcome recorded yet"), (200, "")]
    # Claimed by the dead worker and never called: an attempt without an outcome, then the delivery.
    for i in ids[2:]:
        assert _attempts(i) == [(None, "no outcome recorded yet"), (200, "")]
    delivered = db.session.scalar(
        select(func.count()).select_from(WebhookEvent).where(WebhookEvent.state == "delivered")
    )
    assert delivered == 4
    assert sweep.sweep() == 0
