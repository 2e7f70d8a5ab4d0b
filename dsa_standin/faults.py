"""Injected faults: what can go wrong between a sender and the service, on demand and repeatably.

A fault (JSON at ``POST /_standin/faults``, or ``StandinServer.add_fault``)::

    {"endpoint": "statements",  # ping | statement | statements | existing_puid | show | "*" (any)
     "action": "drop",          # see below
     "times": 1,                # calls affected; null = until cleared (default 1)
     "probability": 1.0,        # chance that a matching call is affected, with "seed" for repeatable runs
     "seed": null,
     "status": 500,             # server_error: the status (500, 502, 503, 504)
     "retry_after": 1,          # rate_limit: the Retry-After seconds
     "ms": 2000,                # delay and timeout: how long
     "then": "store"}           # timeout: "store" (the effect happens late) or "fail" (a 500, nothing stored)

Actions:
- ``delay``: wait ``ms``, then answer normally (adds up with other delays and the latency).
- ``server_error``: answer ``status`` at once; nothing is stored.
- ``rate_limit``: answer 429 as the service does, with ``Retry-After``; nothing is stored.
- ``timeout``: on the creating endpoints, validate and lock the PUIDs, wait ``ms`` holding the locks, then
  store (``then: store``) or answer 500 and store nothing (``then: fail``); elsewhere, wait then answer.
- ``drop``: handle the call, commit what it stores, then close the connection without an answer.

``latency_ms`` (``{"latency_ms": N}``) adds a delay to every API call, for benchmarks.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

ENDPOINTS = ("ping", "statement", "statements", "existing_puid", "show")
ACTIONS = ("delay", "server_error", "rate_limit", "timeout", "drop")


@dataclass
class Fault:
    endpoint: str
    action: str
    times: int | None = 1
    probability: float = 1.0
    seed: int | None = None
    status: int = 500
    retry_after: int = 1
    ms: int = 2000
    then: str = "store"
    _chance: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = []
        if self.endpoint != "*" and self.endpoint not in ENDPOINTS:
            problems.append(f"endpoint must be one of {', '.join(ENDPOINTS)} or *")
        if self.action not in ACTIONS:
            problems.append(f"action must be one of {', '.join(ACTIONS)}")
        if self.times is not None and self.times < 1:
            problems.append("times is at least 1 (or null: until cleared)")
        if not 0 <= self.probability <= 1:
            problems.append("probability is between 0 and 1")
        if self.then not in ("store", "fail"):
            problems.append("then is store or fail")
        if self.status < 500 or self.status > 599:
            problems.append("status is a 5xx")
        if problems:
            raise ValueError("; ".join(problems))
        self._chance = random.Random(self.seed)

    @classmethod
    def parse(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        known = {f.name for f in fields(cls) if not f.name.startswith("_")}
        if unknown := sorted(set(data) - known):
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        return cls(**data)

    def shown(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}


class Faults:
    """The faults and the latency in force; used from many request threads."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._faults: list[Fault] = []
        self.latency_ms = 0
        self.fired: Counter[str] = Counter()

    def add(self, fault: Fault) -> Fault:
        with self._mutex:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._mutex:
            self._faults.clear()
            self.latency_ms = 0

    def shown(self) -> dict[str, Any]:
        with self._mutex:
            return {"faults": [f.shown() for f in self._faults], "latency_ms": self.latency_ms}

    def apply(self, data: Any) -> None:
        """``POST /_standin/faults``: a fault, a list of faults, or ``{"faults": [...], "latency_ms": N}``."""
        latency = None
        if isinstance(data, dict) and ({"faults", "latency_ms"} & set(data)):
            items, latency = data.get("faults", []), data.get("latency_ms")
        else:
            items = data if isinstance(data, list) else [data]
        parsed = [Fault.parse(item) for item in items]
        if latency is not None and (not isinstance(latency, int) or isinstance(latency, bool) or latency < 0):
            raise ValueError("latency_ms is a whole number of milliseconds, 0 or more")
        for fault in parsed:
            self.add(fault)
        if latency is not None:
            self.latency_ms = latency

    def draw(self, endpoint: str) -> tuple[float, Fault | None]:
        """The extra wait for this call (seconds) and the fault that decides its fate, if any."""
        wait_ms = self.latency_ms
        decisive = None
        with self._mutex:
            for fault in list(self._faults):
                if fault.endpoint not in ("*", endpoint):
                    continue
                if fault.action != "delay" and decisive is not None:
                    continue
                if fault.probability < 1 and fault._chance.random() >= fault.probability:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if not fault.times:
                        self._faults.remove(fault)
                self.fired[f"{endpoint}:{fault.action}"] += 1
                if fault.action == "delay":
                    wait_ms += fault.ms
                else:
                    decisive = fault
        return wait_ms / 1000, decisive
