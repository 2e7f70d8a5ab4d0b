"""The simulator's application factory and the state its blueprints share."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from .faults import FaultBook
from .schema import Schema, load_schema
from .store import Clock, SimulatorStore, _utc_now

EXTENSION_KEY = "cybertipline_simulator"


@dataclass
class SimulatorState:
    username: str
    password: str
    store: SimulatorStore
    faults: FaultBook
    schema: Schema
    calls: Counter[str] = field(default_factory=Counter)
    calls_lock: threading.Lock = field(default_factory=threading.Lock)
    # API calls being handled now: one delayed or timed out goes on after its client gave up (or died).
    in_flight: int = 0

    @contextmanager
    def handling(self, endpoint: str) -> Iterator[None]:
        with self.calls_lock:
            self.calls[endpoint] += 1
            self.in_flight += 1
        try:
            yield
        finally:
            with self.calls_lock:
                self.in_flight -= 1

    def stats(self) -> dict[str, Any]:
        with self.calls_lock:
            calls, in_flight = dict(self.calls), self.in_flight
        return {
            "calls": calls,
            "in_flight": in_flight,
            "faults_fired": dict(self.faults.fired),
            "latency_ms": self.faults.latency_ms,
        }

    def reset_stats(self) -> None:
        with self.calls_lock:
            self.calls.clear()
        self.faults.fired.clear()


def create_simulator(
    username: str = "esp-demo",
    password: str = "esp-demo-password",  # noqa: S107 - a local development tool's default
    store_path: str | Path | None = None,
    xsd_path: str | Path | None = None,
    *,
    expire_unfinished: bool = False,
    clock: Clock = _utc_now,
) -> Flask:
    """The simulator as a WSGI app.

    ``store_path``: SQLite file (default in memory). ``xsd_path``: validate against another copy of NCMEC's
    XSD (default: the vendored one). ``expire_unfinished``: drop unfinished reports after NCMEC's deadline,
    as measured by ``clock`` (a function returning an aware datetime).
    """
    from .api import api_blueprint
    from .inspection import inspection_blueprint

    state = SimulatorState(
        username,
        password,
        SimulatorStore(store_path, clock=clock, expire_unfinished=expire_unfinished),
        FaultBook(),
        load_schema(str(xsd_path) if xsd_path else None),
    )
    app = Flask(__name__)
    app.extensions[EXTENSION_KEY] = state
    app.register_blueprint(api_blueprint(state))
    app.register_blueprint(inspection_blueprint(state))
    return app
