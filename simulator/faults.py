"""Fault injection: what can go wrong between a client and the service, on demand and repeatably.

A fault object (JSON at ``POST /_sim/faults``, or ``SimulatorServer.set_fault``)::

    {"endpoint": "finish",   # status | xsd | submit | upload | fileinfo | finish | retract | "*" (any)
     "action": "drop",       # see below
     "times": 1,             # how many calls it affects; null = until cleared (default 1)
     "probability": 1.0,     # chance that a matching call is affected (default 1.0)
     "seed": 7,              # seed for that chance, for repeatable runs (optional)
     "code": 1000,           # for "code": the responseCode to answer with
     "http_status": 200,     # for "code": the HTTP status to send with it (default 200)
     "delay_ms": 250,        # for "delay"
     "timeout_ms": 2000}     # for "timeout"

Actions:
- ``delay``: wait ``delay_ms`` then handle the call normally (delays add up with other faults).
- ``http_500``: answer HTTP 500 with a plain-text body; nothing happens.
- ``code``: answer ``code`` (e.g. 1000, 2000, 4100) in a reportResponse; nothing happens.
- ``timeout``: wait ``timeout_ms`` (set it above the client's read timeout), THEN handle the call normally:
  the effect happens late, after the client has given up — the case a client must treat as indeterminate.
- ``drop``: handle the call and COMMIT its effect, then close the connection without writing any response.

``latency_ms`` is a delay added to every API call, for benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from standins.faults import FaultBase, FaultBook

ENDPOINTS = ("status", "xsd", "submit", "upload", "fileinfo", "finish", "retract")
ACTIONS = ("delay", "http_500", "code", "timeout", "drop")


@dataclass
class Fault(FaultBase):
    ENDPOINTS = ENDPOINTS
    ACTIONS = ACTIONS

    code: int = 1000
    http_status: int = 200
    timeout_ms: int = 2000


def apply_fault_json(faults: FaultBook, data: Any) -> None:
    """Apply the JSON accepted by ``POST /_sim/faults``: one fault object, a list of them, or
    ``{"faults": [...], "latency_ms": N}``. All or nothing."""
    faults.apply_json(data, Fault)


__all__ = ["ACTIONS", "ENDPOINTS", "Fault", "FaultBook", "apply_fault_json"]
