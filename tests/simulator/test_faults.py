"""Faults still work after the move: over HTTP and from Python."""

from __future__ import annotations

import pytest
import requests

from .conftest import code


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
