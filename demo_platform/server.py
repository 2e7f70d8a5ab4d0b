"""Serving the demo platform over real HTTP: in a thread (tests), or in the foreground."""

from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import EXTENSION_KEY, create_platform
from .store import PlatformStore


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class PlatformServer:
    def __init__(
        self, secret: str, host: str = "127.0.0.1", port: int = 0, db: str | None = None, quiet=True
    ):
        self.app = create_platform(secret, db)
        self.store: PlatformStore = self.app.extensions[EXTENSION_KEY]
        self._server = make_server(
            host, port, self.app, threaded=True, request_handler=_Quiet if quiet else None
        )
        self.port = self._server.server_port
        self.root_url = f"http://{host}:{self.port}"
        self.webhook_url = f"{self.root_url}/webhooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="demo-platform",
            daemon=True,
        )

    def start(self) -> PlatformServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
