"""What each answer of the service does to a statement: 5xx and 429 retried with the same PUID, a lost
answer left alone until the PUID's lock has passed and then resolved as already there, a 422 parked with the
service's words, 401 pausing the environment for an admin, batches of at most 100, the sweep, Resend."""

from __future__ import annotations

import json
import time

from werkzeug.wrappers import Response

from console.extensions import db
from console.sor import sending, service, sweep
from console.sor.models import SorEnvironment
from tests import factories
from tests.dsa.conftest import answering
from tests.sor.conftest import LOCK_SECONDS, TOKEN, decide_spam, eu_case
from tests.sor.helpers import one, run_jobs, statements


def _send_now(app) -> None:
    """One send, in this process, of what is due now: the queued jobs are dropped (each would send what falls
    due while it waits, which makes the steps of a test depend on the machine's speed), and a retry is never
    taken early."""
    from datetime import timedelta

    from rq import Queue

    from console import tasks

    db.session.commit()
    Queue(app.config["RQ_QUEUE"], connection=tasks.redis_connection()).empty()
    tolerance, sending.SCHEDULER_TOLERANCE = sending.SCHEDULER_TOLERANCE, timedelta(0)
    try:
        sending.drain("sandbox")
    finally:
        sending.SCHEDULER_TOLERANCE = tolerance
    db.session.rollback()


def _send_when_due(app, timeout: float = 20.0) -> None:
    """Wait for every pending statement's retry time, then send (the scheduler's part, in this process)."""
    deadline = time.time() + timeout
    while True:
        rows = [r for r in statements() if r.state == "pending"]
        if not rows:
            return
        due = max((r.next_attempt_at.timestamp() for r in rows if r.next_attempt_at), default=0)
        if time.time() >= due:
            _send_now(app)
            return
        assert time.time() < deadline
        time.sleep(min(0.1, max(due - time.time(), 0.01)))


def test_server_errors_and_rate_limits_are_retried_with_the_same_puid(world, standin, app):
    case = eu_case(world)
    decide_spam(world, case)
    standin.add_fault("statements", "server_error", status=503)
    _send_now(app)
    row = one(case.id)
    assert (row.state, row.attempts) == ("pending", 1) and "server error" in row.last_error
    assert row.next_attempt_at is not None
    standin.add_fault("statements", "rate_limit", retry_after=1)
    _send_when_due(app)
    row = one(case.id)
    assert (row.state, row.attempts) == ("pending", 2) and "rate limit" in row.last_error
    assert (row.next_attempt_at - row.updated_at).total_seconds() >= 0.99  # at least the Retry-After
    _send_when_due(app)
    row = one(case.id)
    assert (row.state, row.attempts, row.already_there) == ("submitted", 3, False)
    assert [s["puid"] for s in standin.statements()] == [row.puid]


def test_a_lost_answer_is_resolved_by_the_lookup_after_the_lock_never_stored_twice(world, standin, app):
    cases = [eu_case(world, n) for n in range(3)]
    for case in cases:
        decide_spam(world, case)
    standin.add_fault("statements", "drop")  # the service stores the batch, the answer never comes
    _send_now(app)
    rows = statements()
    assert len(standin.statements()) == 3  # stored at the service; the console does not know it yet
    assert all(r.attempts == 1 and "dropped" in r.last_error for r in rows), [
        (r.attempts, r.last_error, r.state) for r in rows
    ]
    # Left alone until the service's lock on the PUIDs has passed: no request of ours can meet it.
    assert all((r.next_attempt_at - r.updated_at).total_seconds() >= LOCK_SECONDS * 0.99 for r in rows)
    _send_when_due(app)
    rows = statements()
    assert [(r.state, r.already_there, r.unexpected_duplicate) for r in rows] == [
        ("submitted", True, False)
    ] * 3
    assert sorted(s["puid"] for s in standin.statements()) == sorted(r.puid for r in rows)


def test_a_puid_the_service_had_before_we_ever_sent_it_is_flagged(world, standin, app):
    case = eu_case(world)
    decide_spam(world, case)
    row = one(case.id)
    import requests

    body = dict(row.body)
    answer = requests.post(
        f"{standin.base_url}/api/v1/statement",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 201
    db.session.rollback()
    time.sleep(LOCK_SECONDS)
    run_jobs(app)
    row = one(case.id)
    assert (row.state, row.already_there, row.unexpected_duplicate) == ("submitted", True, True)
    assert "another sender" in row.last_error
    assert len(standin.statements()) == 1


def test_a_refused_token_pauses_the_environment_until_an_admin_saves_it(world, standin, app):
    admin = world["admin"]
    service.save_environment("sandbox", base_url=standin.base_url, token="6|a-revoked-token", actor=admin)
    first, second = eu_case(world, 1), eu_case(world, 2)
    decide_spam(world, first)
    run_jobs(app)
    env = db.session.scalar(db.select(SorEnvironment).where(SorEnvironment.name == "sandbox"))
    assert "token was refused" in env.paused_reason
    db.session.rollback()
    decide_spam(world, second)
    run_jobs(app)
    assert [r.state for r in statements()] == ["pending", "pending"]
    assert sweep.sweep() == 0  # a paused environment is not swept either
    service.save_environment("sandbox", base_url=standin.base_url, token=TOKEN, actor=admin)
    run_jobs(app)
    assert [r.state for r in statements()] == ["submitted", "submitted"]
    assert len(standin.statements()) == 2


def test_a_refusal_parks_the_statement_with_the_services_words_and_resend_sends_it_again(world, app):
    refusal = {"errors": {"statement_0": {"decision_facts": ["The decision facts field is mysterious."]}}}
    calls = []

    def refuse(request):
        calls.append(json.loads(request.get_data()))
        return Response(json.dumps(refusal), status=422, content_type="application/json")

    with answering(refuse) as url:
        service.save_environment("sandbox", base_url=url, token=TOKEN, actor=world["admin"])
        case = eu_case(world)
        decide_spam(world, case)
        run_jobs(app)
    row = one(case.id)
    assert (row.state, row.refused_by) == ("failed", "service")
    assert row.errors == {"decision_facts": ["The decision facts field is mysterious."]}
    assert "mysterious" in row.last_error and len(calls) == 1
    db.session.rollback()
    assert service.resend(row.id, actor=world["admin"]) is True
    assert one(case.id).state == "pending"


def test_batches_hold_at_most_one_hundred_statements(world, standin, app):
    moderator = factories.user()
    for n in range(101):
        decide_spam(world, eu_case(world, n), moderator)
    run_jobs(app)
    assert {r.state for r in statements()} == {"submitted"}
    assert standin.stats()["calls"].get("statements") == 2
    assert len(standin.statements()) == 101


def test_the_sweep_enqueues_what_nobody_sends(world, standin, app):
    app.config["SWEEP_GRACE_SECONDS"] = 0
    case = eu_case(world)
    decide_spam(world, case)
    from rq import Queue

    from console import tasks

    Queue(app.config["RQ_QUEUE"], connection=tasks.redis_connection()).empty()  # the job is lost
    time.sleep(0.01)
    assert sweep.sweep() == 1
    run_jobs(app)
    assert one(case.id).state == "submitted"
    assert sweep.sweep() == 0
