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

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

ENDPOINTS = ("status", "xsd", "submit", "upload", "fileinfo", "finish", "retract")
ACTIONS = ("delay", "http_500", "code", "timeout", "drop")


@dataclass
class Fault:
    endpoint: str
    action: str
    times: int | None = 1
    probability: float = 1.0
    seed: int | None = None
    code: int = 1000
    http_status: int = 200
    delay_ms: int = 0
    timeout_ms: int = 2000
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.endpoint not in (*ENDPOINTS, "*"):
            raise ValueError(f"unknown endpoint {self.endpoint!r}; use one of {', '.join(ENDPOINTS)} or '*'")
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; use one of {', '.join(ACTIONS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for 'until cleared'")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        allowed = {name for name in cls.__dataclass_fields__ if not name.startswith("_")}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if not key.startswith("_")}


class FaultBook:
    """The faults and latency currently configured; safe to use from many request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self.latency_ms = 0
        self.fired: Counter[str] = Counter()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self.latency_ms = 0

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def take(self, endpoint: str) -> tuple[float, Fault | None]:
        """Consume the faults this call triggers: the total extra delay (s) and the decisive fault, if any."""
        delay_ms = self.latency_ms
        decisive: Fault | None = None
        with self._lock:
            for fault in list(self._faults):
                if fault.endpoint not in (endpoint, "*"):
                    continue
                if fault.action != "delay" and decisive is not None:
                    continue
                if fault.probability < 1.0 and fault._rng.random() >= fault.probability:
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                self.fired[f"{endpoint}:{fault.action}"] += 1
                if fault.action == "delay":
                    delay_ms += fault.delay_ms
                else:
                    decisive = fault
        return delay_ms / 1000, decisive


def apply_fault_json(faults: FaultBook, data: Any) -> None:
    """Apply the JSON accepted by ``POST /_sim/faults``: one fault object, a list of them, or
    ``{"faults": [...], "latency_ms": N}``. All or nothing."""
    if isinstance(data, dict) and ("faults" in data or "latency_ms" in data):
        items = data.get("faults", [])
        latency = data.get("latency_ms")
    elif isinstance(data, dict):
        items, latency = [data], None
    elif isinstance(data, list):
        items, latency = data, None
    else:
        raise ValueError("expected a fault object, a list of them, or {'faults': [...], 'latency_ms': N}")
    parsed = [Fault.from_json(item) for item in items]
    if latency is not None:
        if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
            raise ValueError("latency_ms must be a non-negative integer")
        faults.latency_ms = latency
    for fault in parsed:
        faults.add(fault)
