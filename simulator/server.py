"""Serving the simulator over real HTTP: in a background thread for tests, or in the foreground (CLI)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from standins.serving import BackgroundServer, QuietRequestHandler

from .app import EXTENSION_KEY, SimulatorState, create_simulator
from .faults import Fault, FaultBook
from .store import SimulatorStore


class SimulatorServer(BackgroundServer):
    """A simulator served by a multi-threaded server (for tests, demos and the CLI)."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        super().__init__(app, host, port, quiet=quiet, name="cybertipline-simulator")
        self.state: SimulatorState = app.extensions[EXTENSION_KEY]
        self.base_url = f"{self.root_url}/ispws"

    @property
    def username(self) -> str:
        return self.state.username

    @property
    def password(self) -> str:
        return self.state.password

    @property
    def store(self) -> SimulatorStore:
        return self.state.store

    @property
    def faults(self) -> FaultBook:
        return self.state.faults

    def set_fault(self, endpoint: str, action: str, **options: Any) -> Fault:
        """E.g. ``set_fault("finish", "drop")`` or ``set_fault("submit", "code", code=1000, times=3)``."""
        return self.state.faults.add(Fault(endpoint=endpoint, action=action, **options))

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def set_latency(self, ms: int) -> None:
        self.state.faults.latency_ms = ms

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def reports(self, state: str | None = None) -> list[dict[str, Any]]:
        return self.state.store.reports(state)

    def report(self, report_id: str | int) -> dict[str, Any] | None:
        return self.state.store.report(report_id)

    def refusals(self) -> list[dict[str, Any]]:
        """Every call the simulator said no to (not injected faults), oldest first, with the reason."""
        return self.state.store.refusals()


__all__ = ["QuietRequestHandler", "SimulatorServer", "serve_in_thread"]


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> SimulatorServer:
    """Start a simulator on ``host:port`` (0 = any free port) in a daemon thread; ``kwargs`` go to
    ``create_simulator``. Call ``.shutdown()`` when done."""
    return SimulatorServer(create_simulator(**kwargs), host, port).start()
