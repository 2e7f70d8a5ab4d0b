"""Proof, not promises: N decisions' statements sent by real `rq worker` processes (the production class)
while the stand-in fails (5xx, 429, answers dropped after storing, requests stalled past the client's
timeout, stored or not) and workers are SIGKILLed mid-work.

The oracle is the product's promise: every decision that needs a statement has exactly one stored at the
service, under its own PUID; none is missing, none is stored twice; every statement ends submitted; "already
there" is said only of a PUID the service really holds (a stalled request that stored nothing never reads as
stored), and never of a PUID we had not sent.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter

import pytest

from console.extensions import db
from console.sor import sweep
from tests import factories
from tests.reporting.fault_harness import Workers
from tests.sor.conftest import decide_spam, eu_case
from tests.sor.helpers import statements

pytestmark = pytest.mark.timeout(300)
WORKER_ENV = {
    "SOR_LEASE_SECONDS": "3",
    "SOR_RETRY_BASE_SECONDS": "0.3",
    "SOR_RETRY_MAX_SECONDS": "1.0",
    # The stand-in holds a PUID's lock for 1 s; the client gives up reading after 0.5 s and then leaves the
    # PUID alone for 1.5 s (longer than any stall below: no request of ours meets our own earlier one).
    "SOR_PUID_LOCK_SECONDS": "1.5",
    "SOR_READ_TIMEOUT": "0.5",
    "SOR_DRAIN_SECONDS": "5",
    "SWEEP_GRACE_SECONDS": "1",
}


def storm(standin, rnd: random.Random, probability: float) -> None:
    faults = [
        ("statements", "server_error", {"status": 503}),
        ("statements", "server_error", {"status": 502}),  # a gateway: the request may have been stored
        ("statements", "rate_limit", {"retry_after": 1}),
        ("statements", "drop", {}),  # stored, the answer lost
        ("statements", "timeout", {"timeout_ms": 800, "then": "store"}),
        ("statements", "timeout", {"timeout_ms": 800, "then": "fail"}),  # lost, and nothing stored
        ("existing_puid", "server_error", {"status": 500}),
        ("existing_puid", "drop", {}),
    ]
    for endpoint, action, options in faults:
        standin.add_fault(
            endpoint, action, times=None, probability=probability, seed=rnd.randrange(1 << 30), **options
        )


def maybe_kill(pool: Workers, rnd: random.Random, next_kill: float) -> float:
    """SIGKILL a worker that is at work (a worker still starting up proves nothing) and start another."""
    working = pool.working()
    if time.monotonic() < next_kill or len(working) < 2:
        return next_kill
    pool.kill(rnd.choice(working))
    pool.start(scheduler=True)
    return time.monotonic() + rnd.uniform(1.5, 3.0)


@pytest.mark.parametrize("seed", [int(s) for s in os.environ.get("SOR_FAULT_SEEDS", "31").split(",")])
def test_every_decision_has_exactly_one_stored_statement_under_faults_and_kills(world, standin, app, seed):
    rnd = random.Random(seed)
    n = 60
    app.config.update({"SWEEP_GRACE_SECONDS": 1.0})
    storm(standin, rnd, probability=0.3)
    pool = Workers(app)
    pool.env.update(WORKER_ENV)
    moderator = factories.user()
    try:
        for _ in range(2):
            pool.start(scheduler=True)
        deadline = time.monotonic() + 30
        while len(pool.working()) < 2:
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.1)
        decided = []
        next_kill = time.monotonic() + 1.0
        for i in range(n):
            decide_spam(world, eu_case(world, i), moderator)
            decided.append(i)
            next_kill = maybe_kill(pool, rnd, next_kill)
            time.sleep(rnd.uniform(0.05, 0.2))
        storm_ends = time.monotonic() + 10
        deadline = time.monotonic() + 150
        while True:
            rows = statements()
            if len(rows) == n and all(r.state == "submitted" for r in rows):
                break
            assert time.monotonic() < deadline, Counter((r.state, r.last_error[:60]) for r in rows)
            now = time.monotonic()
            if now > storm_ends:
                standin.clear_faults()  # the service recovers; the console must then finish everything
            else:
                next_kill = maybe_kill(pool, rnd, next_kill)
            sweep.sweep()
            db.session.rollback()
            time.sleep(0.5)
    finally:
        pool.stop_all()
    rows = statements()
    stored = standin.statements()
    counts = Counter(s["puid"] for s in stored)
    assert len(rows) == n and {r.state for r in rows} == {"submitted"}
    assert sorted(counts) == sorted(r.puid for r in rows)  # none missing, none stranger
    assert set(counts.values()) == {1}  # none stored twice
    assert not any(r.unexpected_duplicate for r in rows)
    by_puid = {s["puid"]: s for s in stored}
    for r in rows:
        assert r.uuid is None or r.uuid == by_puid[r.puid]["uuid"]
        assert r.already_there or r.uuid  # a 201 gives the uuid; only "already there" may lack it
    stats = standin.stats()
    fired = stats["faults_fired"]
    assert sum(fired.values()) >= 5 and len(fired) >= 3 and pool.kills >= 1, (stats, pool.kills)
