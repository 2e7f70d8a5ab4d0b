"""A worker SIGKILLed in the middle of a delivery: the event is delivered again with the same webhook-id by
another worker, and recorded as delivered exactly once. Real `rq worker` processes of the production class."""

from __future__ import annotations

import time

from sqlalchemy import select

from console.cases import service as cases
from console.extensions import db
from console.webhooks import sweep
from console.webhooks.models import WebhookAttempt, WebhookEvent
from tests import factories
from tests.reporting.fault_harness import Workers
from tests.webhooks.receiver import Answer


def _wait(predicate, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_leaves_an_event_delivered_once_with_the_same_id(
    platform, receiver, ctx
):
    ctx.config.update({"SWEEP_GRACE_SECONDS": 0})
    receiver.answers = [Answer(200, delay=30)]  # the first delivery hangs at the platform: the worker waits
    workers = Workers(ctx)
    workers.env.update({"WEBHOOK_LEASE_SECONDS": "2", "WEBHOOK_TIMEOUT_SECONDS": "60"})
    try:
        first = workers.start()
        _wait(lambda: workers.working())
        moderator = factories.user()
        case = factories.case(factories.queue(), policy=platform["policies"]["spam"])
        cases.decide(case.id, "violation", platform["policies"]["spam"].id, moderator)  # commit, then enqueue
        db.session.rollback()  # hold no transaction while the workers write (SQLite locks the file)
        _wait(lambda: len(receiver.received) == 1)  # the worker is inside the call
        workers.kill(first)
        event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.case_id == case.id))
        assert event.state == "pending" and event.lease_owner is not None
        db.session.rollback()
        workers.start()
        _wait(lambda: workers.working())
        time.sleep(2.1)  # the dead worker's lease runs out
        assert sweep.sweep() == 1  # its job died with it: the sweep enqueues the event again
        _wait(lambda: len(receiver.received) == 2)

        def delivered():
            db.session.expire_all()
            state = db.session.get(WebhookEvent, event.id).state
            db.session.rollback()
            return state == "delivered"

        _wait(delivered)
    finally:
        workers.stop_all()
    first_try, second_try = receiver.received
    assert first_try.id == second_try.id == event.message_id  # the receiver de-duplicates by it
    assert first_try.verified_with == second_try.verified_with == [0]
    db.session.expire_all()
    event = db.session.get(WebhookEvent, event.id)
    assert (event.state, event.attempts, event.lease_owner) == ("delivered", 2, None)
    attempts = db.session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.event_id == event.id).order_by(WebhookAttempt.id)
    ).all()
    assert [(a.status_code, a.error) for a in attempts] == [(None, "no outcome recorded yet"), (200, "")]
    assert sweep.sweep() == 0
