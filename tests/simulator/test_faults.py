"""Faults still work after the move: over HTTP and from Python."""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import code
from .documents import MINIMAL_REPORT


def test_http_500_answers_plain_text_and_nothing_happens(sim, esp):
    sim.set_fault("submit", "http_500")

    response = esp.submit()

    assert response.status_code == 500 and response.headers["Content-Type"].startswith("text/plain")
    assert sim.reports() == []
    assert sim.stats()["faults_fired"] == {"submit:http_500": 1}


def test_a_dropped_finish_still_finishes(sim, esp):
    report_id = esp.open_report()
    sim.set_fault("finish", "drop")

    with pytest.raises(requests.ConnectionError):
        esp.finish(report_id)

    assert sim.report(report_id)["state"] == "finished"
    assert code(esp.finish(report_id)) == 5102


def test_faults_are_set_listed_and_cleared_over_http(sim, esp):
    faults = f"{sim.root_url}/_sim/faults"

    one_error = {"endpoint": "status", "action": "code", "code": 1000}
    added = requests.post(faults, json={"faults": [one_error]}, timeout=5)
    assert added.json()["faults"][0]["code"] == 1000
    assert code(esp.status()) == 1000
    assert code(esp.status()) == 0  # times=1 by default

    unknown = requests.post(faults, json={"endpoint": "status", "action": "explode"}, timeout=5)
    assert unknown.status_code == 400 and "explode" in unknown.json()["error"]
    assert requests.delete(faults, timeout=5).json() == {"faults": [], "latency_ms": 0}
    assert requests.get(f"{sim.root_url}/_sim/stats", timeout=5).json()["calls"] == {"status": 2}


def test_a_timed_out_call_is_in_flight_until_the_service_has_carried_it_out(sim, esp):
    """The client gives up at its timeout; the service goes on, and says so in its stats until it is done."""
    sim.set_fault("submit", "timeout", timeout_ms=1500)

    with pytest.raises(requests.Timeout):
        requests.post(
            f"{sim.base_url}/submit",
            data=MINIMAL_REPORT,
            auth=esp.auth,
            timeout=0.3,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
    assert sim.stats()["in_flight"] == 1 and sim.reports() == []

    deadline = time.monotonic() + 10
    while sim.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim.stats()["in_flight"] == 0
    assert [r["state"] for r in sim.reports()] == ["open"]  # carried out for a client that was gone
