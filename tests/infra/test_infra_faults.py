"""Surviving the infrastructure: PostgreSQL and Redis restarts, a full disk, NCMEC gone a (compressed) day,
SIGTERM to workers mid-job — each against the whole console running on parts of its own (tests/infra/stack.py)
while reports are filed continuously over HTTP, judged by the oracle of tests/infra/trial.py. All run on a
PostgreSQL cluster of the stack's own in both configurations of the suite (`stack` says why not SQLite). The
long version is `python bench/infra_faults.py`.

Each test is bounded: the fault lasts seconds, and the pipeline must move again within RECOVERY_BOUND seconds
after the part returns (the figure each test measures).
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager

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


def _stack(folder) -> Stack:
    if REASON:
        pytest.fail(f"CI must run the infrastructure faults: {REASON}")
    return Stack(folder, small_disk=True)


@pytest.fixture(scope="module")
def pg_stack(tmp_path_factory):
    """The stack on a PostgreSQL cluster of its own, whichever configuration the suite runs in."""
    s = _stack(tmp_path_factory.mktemp("infra-pg"))
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="module")
def stack(pg_stack):
    """Every fault runs on the stack's own PostgreSQL, in both configurations of the suite. Not on SQLite:
    the whole production stack on one SQLite file (gunicorn, two workers, rq cron sealing every second, each
    transaction BEGIN IMMEDIATE) stalled 30 s on its write lock under load before any fault was injected;
    SQLite is the one-command demo's database, not a production one."""
    return pg_stack


@contextmanager
def running_setup(stack, *, aof: bool = False):
    """The stack's app set up as an admin would (NCMEC, a rule, the platform's endpoint and actions), its
    processes running, an API token and a moderator for the filer. Each trial gets a fresh database content
    and fresh processes."""
    from console.api import tokens
    from console.extensions import db
    from tests import factories
    from tests.conftest import _clean
    from tests.reporting.helpers import reporting_setup
    from tests.webhooks.conftest import SECRET, setup_platform
    from tests.webhooks.receiver import Receiver

    app = stack.app or stack.make_app()
    if stack.redis.aof != aof:  # the Redis this trial needs, before any process connects
        stack.redis.aof = aof
        stack.redis.restart()
    receiver = Receiver([SECRET]).start()
    sim = stack.simulator or stack.start_simulator("esp-infra", "infra-password")
    with app.app_context():
        _clean(app)
        stack.wipe_store()
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


@pytest.fixture
def running(stack, request):
    callspec = getattr(request.node, "callspec", None)
    with running_setup(
        stack, aof=callspec is not None and callspec.params.get("persistence") == "aof"
    ) as setup:
        yield setup


@pytest.fixture
def pg_running(pg_stack):
    with running_setup(pg_stack) as setup:
        yield setup


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


def outage(stack, f: trial.Filer, part: str, down, up, seconds: float) -> dict:
    """Take `part` down for `seconds` while reports are in flight; readiness must name it; then bring it back
    and measure how long the reports acknowledged by then take to finish (`unfinished`: how many of them
    were not finished when it returned)."""
    stack.simulator.set_latency(300)  # every report spends seconds at NCMEC: some are mid-flight
    try:
        deadline = time.monotonic() + 30
        while len(f.load.confirmed) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        down()
        readiness = trial.watch_readiness(stack, seconds, part)
        up()
        waiting = set(f.load.confirmed)
        unfinished = len(waiting - (trial.finished_cases() or set()))
        recovered = trial.recovery(stack, waiting, RECOVERY_BOUND)
    finally:
        stack.simulator.set_latency(0)
    assert readiness.get(f"503 naming {part}"), f"readiness never named {part}: {readiness}"
    assert recovered is not None, (
        f"{len(waiting)} reports not finished {RECOVERY_BOUND} s after {part} returned: "
        f"{trial.diagnose(stack, waiting)}"
    )
    return {
        "readiness": readiness,
        "recovered_s": round(recovered, 2),
        "waiting": len(waiting),
        "unfinished": unfinished,
        "faults": 1,
    }


# --- the fault kinds: each files under its fault, checks what the console showed, and returns its figures ---


def postgres(mode: str):
    def run(stack, setup, n: int) -> dict:
        f = filer(stack, setup, f"pg-{mode}-{n}")
        result = outage(stack, f, "database", lambda: stack.pg.stop(mode), stack.pg.start, seconds=4)
        finish(stack, setup, f)
        assert f.load.outage_parts["database"], f"no request met the outage: {dict(f.load.answers)}"
        return {**result, "answers": dict(f.load.answers)}

    return run


def redis_restart(persistence: str):
    def run(stack, setup, n: int) -> dict:
        f = filer(stack, setup, f"redis-{persistence}-{n}")
        result = outage(stack, f, "redis", stack.redis.stop, stack.redis.start, seconds=4)
        finish(stack, setup, f)
        # Readiness counts workers by their registration in Redis: counted again once it is back.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not stack.readiness()[1].get("workers", {}).get("ok"):
            time.sleep(0.5)
        assert stack.readiness()[1]["workers"]["ok"], stack.readiness()
        return {**result, "answers": dict(f.load.answers)}

    return run


def full_disk(stack, setup, n: int) -> dict:
    if stack.disk is None or stack.disk_problem:
        pytest.skip(f"no small filesystem of our own: {stack.disk_problem}")
    f = filer(stack, setup, f"disk-{n}")
    result = outage(stack, f, "storage", stack.disk.fill, stack.disk.free, seconds=4)
    finish(stack, setup, f)
    assert f.load.outage_parts["storage"], f"no upload met the full disk: {dict(f.load.answers)}"
    return {**result, "answers": dict(f.load.answers)}


def ncmec_unreachable(stack, setup, n: int) -> dict:
    f = filer(stack, setup, f"ncmec-{n}")
    deadline = time.monotonic() + 30
    while len(f.load.confirmed) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    stack.ncmec_down()
    time.sleep(float(os.environ.get("INFRA_NCMEC_DOWN_SECONDS", "15")))
    waiting = set(f.load.confirmed)
    stack.ncmec_back()
    recovered = trial.recovery(stack, waiting, RECOVERY_BOUND)
    assert recovered is not None, (
        f"{len(waiting)} reports not finished {RECOVERY_BOUND} s after NCMEC returned"
    )
    finish(stack, setup, f)
    assert not any(k.endswith(" 503") for k in f.load.answers), f.load.answers  # no outage of ours
    return {
        "recovered_s": round(recovered, 2),
        "waiting": len(waiting),
        "faults": 1,
        "answers": dict(f.load.answers),
    }


def sigterm(stack, setup, n: int) -> dict:
    """recovered_s here: the longest a worker took to exit after SIGTERM."""
    from console.extensions import db
    from console.reporting.models import ExternalReport

    stack.simulator.set_fault("*", "delay", delay_ms=400, times=None)  # calls long enough to land in
    f = filer(stack, setup, f"sigterm-{n}")
    took = []
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            busy = _busy_worker(stack)
            if busy is None:
                time.sleep(0.1)
                continue
            cold = len(took) % 2 == 1  # every other one: a second SIGTERM, RQ's cold shutdown
            os.killpg(busy.pid, signal.SIGTERM)
            began = time.monotonic()
            if cold:
                time.sleep(1.1)  # RQ ignores a second signal within a second of the first
                if busy.poll() is None:
                    os.killpg(busy.pid, signal.SIGTERM)
            busy.wait(timeout=20)  # bounded: the job's calls are bounded by the NCMEC timeouts
            took.append(time.monotonic() - began)
            assert took[-1] < 15, f"a worker took {took[-1]:.1f} s to stop after SIGTERM"
            # Finished or given back: no lease is left to a process that is gone (it would wait to expire).
            db.session.rollback()
            left = [
                o
                for o in db.session.scalars(
                    db.select(ExternalReport.lease_owner).where(ExternalReport.lease_owner.is_not(None))
                )
                if f":{busy.pid}:" in o
            ]
            db.session.rollback()
            assert not left, f"a {'cold' if cold else 'warm'} shutdown left its lease: {left}"
            stack.supervise()  # its replacement
    finally:
        stack.simulator.clear_faults()
    assert len(took) >= 2, "no worker was caught mid-job"
    finish(stack, setup, f)
    db.session.rollback()
    held = list(
        db.session.scalars(
            db.select(ExternalReport.lease_owner).where(ExternalReport.lease_owner.is_not(None))
        )
    )
    db.session.rollback()
    assert not held, f"leases still held after the trial: {held}"
    return {"recovered_s": round(max(took), 2), "faults": len(took), "answers": dict(f.load.answers)}


KINDS = {
    "postgres-fast": (postgres("fast"), False),
    "postgres-immediate": (postgres("immediate"), False),
    "redis-empty": (redis_restart("none"), False),
    "redis-aof": (redis_restart("aof"), True),
    "full-disk": (full_disk, False),
    "ncmec-unreachable": (ncmec_unreachable, False),
    "sigterm-workers": (sigterm, False),
}


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_postgres_restart_mid_filing(pg_stack, pg_running, mode):
    """Pages and the API answer 503 (never a traceback) while it is down; in-flight reports finish after."""
    print(f"postgres {mode}:", KINDS[f"postgres-{mode}"][0](pg_stack, pg_running, 0))


@pytest.mark.parametrize("persistence", ["none", "aof"])
def test_redis_restart_mid_filing(stack, running, persistence):
    """Without persistence every queue, scheduled retry, worker registration and cron registration is gone:
    the sweeps re-enqueue from the database. With AOF the jobs come back with it."""
    kind = "redis-aof" if persistence == "aof" else "redis-empty"
    print(f"redis {persistence}:", KINDS[kind][0](stack, running, 0))


def test_full_disk_for_media_and_evidence(stack, running):
    """The filesystem of media and evidence fills up: the API stores nothing (503, nothing half), readiness
    says storage, evidence waits; once space is freed everything moves again."""
    print("full disk:", full_disk(stack, running, 0))


def test_ncmec_unreachable_then_back(stack, running):
    """NCMEC refuses connections for a (compressed) day: reports wait in backoff, moderators keep working,
    nothing is filed twice; when it is back every report is finished."""
    print("ncmec:", ncmec_unreachable(stack, running, 0))


def test_sigterm_to_workers_mid_job(stack, running):
    """SIGTERM (a deploy, a scale-down) to a worker that is filing: it finishes the job or gives the lease
    back, and exits promptly; nothing is left held by a process that is gone."""
    print("sigterm:", sigterm(stack, running, 0))


@pytest.mark.slow
@pytest.mark.timeout(0)
def test_infra_fault_trials(pg_stack):
    """`python bench/infra_faults.py` runs this: INFRA_TRIALS trials of each kind in INFRA_KINDS, figures per
    kind (trials, faults survived, recovery median and max, violations) printed as one JSON line."""
    import json
    import statistics

    trials = int(os.environ.get("INFRA_TRIALS", "3"))
    kinds = os.environ.get("INFRA_KINDS", ",".join(KINDS)).split(",")
    figures = {}
    for kind in kinds:
        run, aof = KINDS[kind]
        times, faults, violations = [], 0, []
        for n in range(trials):
            try:
                with running_setup(pg_stack, aof=aof) as setup:
                    result = run(pg_stack, setup, n + 1)
                times.append(result["recovered_s"])
                faults += result["faults"]
                print(f"{kind} {n + 1}/{trials}: {result}", flush=True)
            except AssertionError as error:
                violations.append(str(error)[:500])
                print(f"{kind} {n + 1}/{trials}: VIOLATION {str(error)[:500]}", flush=True)
        figures[kind] = {
            "trials": trials,
            "faults_survived": faults,
            "recovery_median_s": round(statistics.median(times), 2) if times else None,
            "recovery_max_s": round(max(times), 2) if times else None,
            "violations": len(violations),
        }
        print(f"{kind}: {figures[kind]}", flush=True)
    print("INFRA FAULT TRIALS: " + json.dumps(figures), flush=True)
    assert not any(f["violations"] for f in figures.values()), figures


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
