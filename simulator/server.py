"""Serving the simulator over real HTTP: in a background thread for tests, or in the foreground (CLI)."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import EXTENSION_KEY, SimulatorState, create_simulator
from .faults import Fault, FaultBook
from .store import SimulatorStore


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: tests make thousands of calls."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class SimulatorServer:
    """A simulator served by a multi-threaded server (for tests, demos and the CLI)."""

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        self.app = app
        self.state: SimulatorState = app.extensions[EXTENSION_KEY]
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietRequestHandler if quiet else None
        )
        self.host = host
        self.port = self._server.server_port
        self.root_url = f"http://{host}:{self.port}"
        self.base_url = f"{self.root_url}/ispws"
        self._thread = threading.Thread(
            # A short poll interval makes shutdown() quick: it waits for the serving loop to notice.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="cybertipline-simulator",
            daemon=True,
        )

    def start(self) -> SimulatorServer:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()

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


def serve_in_thread(host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> SimulatorServer:
    """Start a simulator on ``host:port`` (0 = any free port) in a daemon thread; ``kwargs`` go to
    ``create_simulator``. Call ``.shutdown()`` when done."""
    return SimulatorServer(create_simulator(**kwargs), host, port).start()
