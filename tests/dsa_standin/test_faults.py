"""Injected faults over HTTP and from Python: each does what faults.py promises to the sender."""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import sor


def test_faults_are_set_listed_and_cleared_over_http(standin, platform):
    url = f"{standin.base_url}/_standin/faults"

    added = requests.post(url, json={"faults": [{"endpoint": "ping", "action": "server_error"}]}, timeout=5)
    assert added.json()["faults"][0]["action"] == "server_error"
    assert platform.get("/api/ping").status_code == 500
    assert platform.get("/api/ping").status_code == 200  # times: 1 by default

    wrong = requests.post(url, json={"endpoint": "ping", "action": "explode"}, timeout=5)
    assert wrong.status_code == 400 and "action" in wrong.json()["error"]
    assert requests.post(url, json={"latency_ms": 5}, timeout=5).json()["latency_ms"] == 5
    assert requests.delete(url, timeout=5).json() == {"faults": [], "latency_ms": 0}
    assert requests.get(f"{standin.base_url}/_standin/stats", timeout=5).json()["faults_fired"] == {
        "ping:server_error": 1
    }


def test_a_server_error_stores_nothing(standin, platform):
    standin.add_fault("statements", "server_error", status=503)

    answer = platform.many([sor()])

    assert answer.status_code == 503 and standin.statements() == []


def test_a_gateway_error_is_not_json(standin, platform):
    standin.add_fault("statement", "server_error", status=502)

    answer = platform.one(sor())

    assert answer.status_code == 502 and answer.headers["Content-Type"].startswith("text/html")


def test_an_injected_rate_limit_says_when_to_come_back(standin, platform):
    standin.add_fault("*", "rate_limit", retry_after=9)

    answer = platform.lookup("post-1")

    assert answer.status_code == 429 and answer.headers["Retry-After"] == "9"


def test_a_dropped_answer_still_stores(standin, platform):
    standin.add_fault("statement", "drop")

    with pytest.raises(requests.ConnectionError):
        platform.one(sor())

    assert [row["puid"] for row in standin.statements()] == ["post-1"]
    assert platform.one(sor()).status_code == 422  # the PUID is used


def test_a_timeout_stores_late_or_fails_after_holding_the_lock(standin, platform):
    standin.add_fault("statement", "timeout", timeout_ms=400, then="store")
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{standin.base_url}/api/v1/statement",
            json=sor("post-1"),
            headers=platform.headers(),
            timeout=0.1,
        )
    time.sleep(0.5)
    assert [row["puid"] for row in standin.statements()] == ["post-1"]

    standin.add_fault("statement", "timeout", timeout_ms=100, then="fail")
    failed = platform.one(sor("post-2"))
    assert failed.status_code == 500 and platform.lookup("post-2").status_code == 404


def test_latency_delays_every_call(standin, platform):
    standin.set_latency(150)

    started = time.monotonic()
    platform.get("/api/ping")

    assert time.monotonic() - started >= 0.15


def test_a_fault_with_a_probability_is_repeatable_with_a_seed(standin, platform):
    def run() -> list[int]:
        standin.clear_faults()
        standin.add_fault("ping", "server_error", times=None, probability=0.5, seed=7)
        return [platform.get("/api/ping").status_code for _ in range(12)]

    first = run()
    assert first == run() and 500 in first and 200 in first
