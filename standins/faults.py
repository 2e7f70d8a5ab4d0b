"""Injected faults: the common part of a fault, and the book of faults in force.

A stand-in defines its own ``Fault`` (a subclass naming its endpoints, its actions and their options);
``delay`` is every stand-in's action that only waits ``delay_ms`` before answering normally.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar


@dataclass
class FaultBase:
    ENDPOINTS: ClassVar[tuple[str, ...]] = ()
    ACTIONS: ClassVar[tuple[str, ...]] = ()

    endpoint: str
    action: str
    times: int | None = 1  # calls affected; None: until cleared
    probability: float = 1.0  # chance that a matching call is affected
    seed: int | None = None  # for that chance, for repeatable runs
    delay_ms: int = 0  # for "delay"
    _rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.endpoint not in (*self.ENDPOINTS, "*"):
            raise ValueError(
                f"unknown endpoint {self.endpoint!r}; use one of {', '.join(self.ENDPOINTS)} or '*'"
            )
        if self.action not in self.ACTIONS:
            raise ValueError(f"unknown action {self.action!r}; use one of {', '.join(self.ACTIONS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1, or null for 'until cleared'")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultBase:
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
        self._faults: list[FaultBase] = []
        self.latency_ms = 0
        self.fired: Counter[str] = Counter()

    def add(self, fault: FaultBase) -> FaultBase:
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

    def take(self, endpoint: str) -> tuple[float, Any]:
        """Consume the faults this call triggers: the total extra delay (s) and the decisive fault, if any."""
        delay_ms = self.latency_ms
        decisive = None
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

    def apply_json(self, data: Any, fault_class: type[FaultBase]) -> None:
        """Apply what a control endpoint received: one fault object, a list of them, or
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
        parsed = [fault_class.from_json(item) for item in items]
        if latency is not None:
            if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
                raise ValueError("latency_ms must be a non-negative integer")
            self.latency_ms = latency
        for fault in parsed:
            self.add(fault)
