"""The stand-in's application factory, the state its blueprints share, and serving it over real HTTP."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from standins.serving import BackgroundServer

from .faults import Fault, FaultBook
from .limits import RateLimits
from .store import CACHE_SECONDS, LOCK_SECONDS, StandinStore

STATE_KEY = "dsa_standin"


@dataclass
class StandinState:
    tokens: dict[str, str | None]  # token → its user's platform (None: a user without one, answered 403)
    store: StandinStore
    faults: FaultBook
    limits: RateLimits
    calls: Counter[str] = field(default_factory=Counter)
    _mutex: threading.Lock = field(default_factory=threading.Lock)

    def count(self, endpoint: str) -> None:
        with self._mutex:
            self.calls[endpoint] += 1

    def stats(self) -> dict[str, Any]:
        with self._mutex:
            calls = dict(self.calls)
        return {"calls": calls, "faults_fired": dict(self.faults.fired), "statements": self.store.count()}


def create_standin(
    tokens: dict[str, str | None],
    store_path: str | Path | None = None,
    *,
    lock_seconds: float = LOCK_SECONDS,
    cache_seconds: float = CACHE_SECONDS,
    limits: RateLimits | None = None,
) -> Flask:
    """The stand-in as a WSGI app. ``tokens``: each accepted token and its platform (PUIDs are unique per
    platform); ``store_path``: a SQLite file (default: in memory)."""
    from .api import api_blueprint
    from .pages import pages_blueprint

    state = StandinState(
        dict(tokens),
        StandinStore(store_path, lock_seconds=lock_seconds, cache_seconds=cache_seconds),
        FaultBook(),
        limits or RateLimits(),
    )
    app = Flask(__name__)
    app.json.sort_keys = False  # answers keep the service's key order ("message" first)
    app.extensions[STATE_KEY] = state
    app.register_blueprint(api_blueprint(state))
    app.register_blueprint(pages_blueprint(state))

    @app.errorhandler(404)
    def not_found(_error: Exception) -> Response | tuple[str, int]:
        if request.path.startswith("/api/"):  # no v2 here either: every /api/v2 route is commented out
            response = jsonify({"message": f"The route {request.path.lstrip('/')} could not be found."})
            response.status_code = 404
            return response
        return "Not found", 404

    return app


class StandinServer(BackgroundServer):
    """The stand-in on a real socket, in a background thread (tests, ``make run``) or in the foreground.

    ``base_url`` is what a sender is configured with: the API is under ``/api`` below it, as at the service.
    """

    def __init__(self, app: Flask, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        super().__init__(app, host, port, quiet=quiet, name="dsa-standin")
        self.state: StandinState = app.extensions[STATE_KEY]
        self.base_url = self.root_url

    # What tests and demos do from Python; the same is on /_standin over HTTP.

    @property
    def store(self) -> StandinStore:
        return self.state.store

    def add_token(self, token: str, platform: str | None) -> None:
        self.state.tokens[token] = platform

    def add_fault(self, endpoint: str, action: str, **options: Any) -> Fault:
        """E.g. ``add_fault("statements", "drop")``, ``add_fault("*", "server_error", status=503)``."""
        return self.state.faults.add(Fault(endpoint=endpoint, action=action, **options))

    def clear_faults(self) -> None:
        self.state.faults.clear()

    def set_latency(self, ms: int) -> None:
        self.state.faults.latency_ms = ms

    def set_limits(self, **limits: int) -> None:
        self.state.limits.set(**limits)

    def statements(self, platform: str | None = None, puid: str | None = None) -> list[dict[str, Any]]:
        return self.state.store.statements(platform, puid)

    def stats(self) -> dict[str, Any]:
        return self.state.stats()


def serve_in_thread(tokens: dict[str, str | None], host: str = "127.0.0.1", port: int = 0, **kwargs: Any):
    """A stand-in on ``host:port`` (0: any free port) in a daemon thread; call ``.shutdown()`` when done."""
    return StandinServer(create_standin(tokens, **kwargs), host, port).start()
