"""Surviving the infrastructure: PostgreSQL and Redis restarts, a full disk, NCMEC gone for a (compressed)
day, SIGTERM to workers mid-job — each against the whole console running on parts of its own
(tests/infra/stack.py) while reports are filed continuously over HTTP, judged by the oracle of
tests/infra/trial.py. These are PostgreSQL tests whatever DATABASE_URL says: the stack's own cluster is the
database. The long version is `python bench/infra_faults.py`.

Each test is bounded: the fault lasts seconds, and the pipeline must move again within RECOVERY_BOUND
seconds after the part returns (the figure each test measures).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.infra import cluster, trial
from tests.infra.stack import Stack

REASON = cluster.available()
pytestmark = [
    pytest.mark.skipif(bool(REASON) and os.environ.get("CI") != "true", reason=REASON or "available"),
    pytest.mark.timeout(240),
]
# Seconds the pipeline has, after the part returns, to finish every acknowledged report, deliver every event
# and preserve every record (the lease and the sweep's grace are a few seconds in the compressed settings).
RECOVERY_BOUND = float(os.environ.get("INFRA_RECOVERY_BOUND", "45"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if REASON:
        pytest.fail(f"CI must run the infrastructure faults: {REASON}")
    s = Stack(tmp_path_factory.mktemp("infra"), small_disk=True)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def running(stack, request):
    """The stack's app set up as an admin would (NCMEC, a rule, the platform's endpoint and actions), its
    processes running, a filer signed in. Each test gets a fresh database content and fresh processes."""
    from console.api import tokens
    from console.extensions import db
    from tests import factories
    from tests.conftest import _clean
    from tests.reporting.helpers import reporting_setup
    from tests.webhooks.conftest import SECRET, setup_platform
    from tests.webhooks.receiver import Receiver

    app = stack.app or stack.make_app()
    callspec = getattr(request.node, "callspec", None)
    aof = callspec is not None and callspec.params.get("persistence") == "aof"
    if stack.redis.aof != aof:  # the Redis this test needs, before any process connects
        stack.redis.aof = aof
        stack.redis.restart()
    receiver = Receiver([SECRET]).start()
    sim = stack.simulator or stack.start_simulator("esp-infra", "infra-password")
    with app.app_context():
        _clean(app)
        policies, _review, _rule = reporting_setup(sim)
        setup_platform(app, receiver, policies)
        moderator = factories.user("moderator")
        _token, raw = tokens.create_token("scanner")
        db.session.commit()
        stack.start_processes(workers=2)
        setup = {"token": raw, "email": moderator.email, "csam": policies["csam"].id, "receiver": receiver}
        try:
            yield setup
        finally:
            stack.stop_processes()
            receiver.stop()
            if stack.disk is not None:
                stack.disk.free()


def filer(stack, setup, prefix: str, limit: int | None = None) -> trial.Filer:
    return trial.Filer(stack, setup["token"], setup["email"], setup["csam"], prefix).start(limit)


def finish(stack, setup, f: trial.Filer, *, drain: float = 30.0) -> float:
    """Stop filing once everything posted is confirmed; wait for the pipeline; run the oracle. Returns the
    seconds from now until the pipeline was done."""
    f.limit = 0
    f.drain(drain)
    f.stop()
    recovered = trial.wait_for_pipeline(stack, f.load, RECOVERY_BOUND)
    problems = trial.check(stack, f.load, setup["receiver"], f.baseline)
    assert recovered is not None, f"the pipeline did not finish within {RECOVERY_BOUND} s: {problems}"
    assert not problems, problems
    assert f.load.confirmed, "the load confirmed nothing"
    return recovered


def test_no_fault_files_every_confirmed_content_once(stack, running):
    """The baseline: the harness itself, with nothing broken."""
    f = filer(stack, running, "base", limit=4)
    time.sleep(3)
    finish(stack, running, f)


def outage(stack, running, f: trial.Filer, part: str, down, up, seconds: float) -> dict:
    """Take `part` down for `seconds` while filing; readiness must name it; then bring it back and measure
    how long the reports acknowledged by then take to finish."""
    time.sleep(2)  # reports in flight
    down()
    readiness = trial.watch_readiness(stack, seconds, part)
    up()
    waiting = set(f.load.confirmed)
    recovered = trial.recovery(stack, waiting, RECOVERY_BOUND)
    assert readiness.get(f"503 naming {part}"), f"readiness never named {part}: {readiness}"
    assert recovered is not None, (
        f"{len(waiting)} reports not finished {RECOVERY_BOUND} s after {part} returned"
    )
    return {"readiness": readiness, "recovered_s": round(recovered, 2), "waiting": len(waiting)}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_mid_filing(stack, running, mode):
    f = filer(stack, running, f"pg-{mode}")
    result = outage(stack, running, f, "database", lambda: stack.pg.stop(mode), stack.pg.start, seconds=4)
    finish(stack, running, f)
    assert f.load.outage_parts["database"], f"no request met the outage: {dict(f.load.answers)}"
    print(f"postgres {mode}: {result} answers {dict(f.load.answers)}")


@pytest.mark.parametrize("persistence", ["none", "aof"])
def test_redis_restart_mid_filing(stack, running, persistence):
    """Without persistence every queue, scheduled retry, worker registration and cron registration is gone:
    the sweeps re-enqueue from the database. With AOF the jobs come back with it."""
    f = filer(stack, running, f"redis-{persistence}")
    result = outage(stack, running, f, "redis", stack.redis.stop, stack.redis.start, seconds=4)
    finish(stack, running, f)
    # Readiness counts workers by their registration in Redis: they must be counted again once it is back.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not stack.readiness()[1].get("workers", {}).get("ok"):
        time.sleep(0.5)
    assert stack.readiness()[1]["workers"]["ok"], stack.readiness()
    print(f"redis {persistence}: {result} answers {dict(f.load.answers)}")


def test_full_disk_for_media_and_evidence(stack, running):
    """The filesystem of media and evidence fills up: the API stores nothing (503, nothing half), readiness
    says storage, evidence waits; once space is freed everything moves again."""
    if stack.disk is None or stack.disk_problem:
        pytest.skip(f"no small filesystem of our own: {stack.disk_problem}")
    f = filer(stack, running, "disk")
    result = outage(stack, running, f, "storage", stack.disk.fill, stack.disk.free, seconds=4)
    finish(stack, running, f)
    assert f.load.outage_parts["storage"], f"no upload met the full disk: {dict(f.load.answers)}"
    print(f"disk: {result} answers {dict(f.load.answers)}")


def test_ncmec_unreachable_then_back(stack, running):
    """NCMEC refuses connections for a (compressed) day: reports wait in backoff, moderators keep working,
    nothing is filed twice; when it is back every report is finished."""
    f = filer(stack, running, "ncmec")
    time.sleep(1)
    stack.ncmec_down()
    time.sleep(float(os.environ.get("INFRA_NCMEC_DOWN_SECONDS", "15")))
    waiting = set(f.load.confirmed)
    stack.ncmec_back()
    recovered = trial.recovery(stack, waiting, RECOVERY_BOUND)
    assert recovered is not None, (
        f"{len(waiting)} reports not finished {RECOVERY_BOUND} s after NCMEC returned"
    )
    finish(stack, running, f)
    assert not any(k.endswith(" 503") for k in f.load.answers), f.load.answers  # NCMEC down is no outage here
    print(f"ncmec: recovered in {recovered:.2f} s for {len(waiting)} waiting; answers {dict(f.load.answers)}")


def test_sigterm_to_workers_mid_job(stack, running):
    """SIGTERM (a deploy, a scale-down) to a worker that is filing: it finishes the job or gives the lease
    back, and exits promptly; nothing is left held by a process that is gone."""
    from console.extensions import db
    from console.reporting.models import ExternalReport

    stack.simulator.set_fault("*", "delay", delay_ms=400, times=None)  # calls long enough to land in
    f = filer(stack, running, "sigterm")
    stopped = 0
    try:
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            busy = _busy_worker(stack)
            if busy is None:
                time.sleep(0.1)
                continue
            os.killpg(busy.pid, signal.SIGTERM)
            began = time.monotonic()
            busy.wait(timeout=20)  # bounded: the job's calls are bounded by the NCMEC timeouts
            took = time.monotonic() - began
            assert took < 15, f"a worker took {took:.1f} s to stop after SIGTERM"
            stopped += 1
            stack.supervise()  # its replacement
    finally:
        stack.simulator.clear_faults()
    assert stopped >= 2, "no worker was caught mid-job"
    finish(stack, running, f)
    db.session.rollback()
    held = db.session.scalars(
        db.select(ExternalReport.lease_owner).where(ExternalReport.lease_owner.is_not(None))
    )
    assert not list(held)
    db.session.rollback()
    print(f"sigterm: {stopped} workers stopped mid-job; answers {dict(f.load.answers)}")


def _busy_worker(stack):
    from redis import Redis
    from rq import Queue, Worker

    connection = Redis.from_url(stack.redis.url)
    try:
        busy = {
            w.pid
            for w in Worker.all(queue=Queue(stack.queue, connection=connection))
            if w.get_state() == "busy"
        }
    finally:
        connection.close()
    return next((p for p in stack.workers if p.pid in busy and p.poll() is None), None)
