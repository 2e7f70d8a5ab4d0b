"""Injected faults: what can go wrong between a sender and the service, on demand and repeatably.

A fault (JSON at ``POST /_standin/faults``, or ``StandinServer.add_fault``)::

    {"endpoint": "statements",  # ping | statement | statements | existing_puid | show | "*" (any)
     "action": "drop",          # see below
     "times": 1,                # calls affected; null = until cleared (default 1)
     "probability": 1.0,        # chance that a matching call is affected, with "seed" for repeatable runs
     "seed": null,
     "status": 500,             # server_error: the status (500, 502, 503, 504)
     "retry_after": 1,          # rate_limit: the Retry-After seconds
     "delay_ms": 250,           # delay: how long
     "timeout_ms": 2000,        # timeout: how long
     "then": "store"}           # timeout: "store" (the effect happens late) or "fail" (a 500, nothing stored)

Actions:
- ``delay``: wait ``delay_ms``, then answer normally (adds up with other delays and the latency).
- ``server_error``: answer ``status`` at once; nothing is stored.
- ``rate_limit``: answer 429 as the service does, with ``Retry-After``; nothing is stored.
- ``timeout``: on the creating endpoints, validate and lock the PUIDs, wait ``timeout_ms`` holding the locks,
  then store (``then: store``) or answer 500 and store nothing (``then: fail``); elsewhere wait, then answer.
- ``drop``: handle the call, commit what it stores, then close the connection without an answer.

``latency_ms`` (``{"latency_ms": N}``) adds a delay to every API call, for benchmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

from standins.faults import FaultBase, FaultBook

ENDPOINTS = ("ping", "statement", "statements", "existing_puid", "show")
ACTIONS = ("delay", "server_error", "rate_limit", "timeout", "drop")


@dataclass
class Fault(FaultBase):
    ENDPOINTS = ENDPOINTS
    ACTIONS = ACTIONS

    status: int = 500
    retry_after: int = 1
    timeout_ms: int = 2000
    then: str = "store"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.then not in ("store", "fail"):
            raise ValueError("then must be store or fail")
        if not 500 <= self.status <= 599:
            raise ValueError("status must be a 5xx")


__all__ = ["ACTIONS", "ENDPOINTS", "Fault", "FaultBook"]
