"""A stand-in on a real socket, served by threads: in the background (tests, ``make run``) or foreground."""

from __future__ import annotations

import socket
import threading
from typing import Self

from flask import request
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """No access log: tests make thousands of calls."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class BackgroundServer:
    """A WSGI app served by a multi-threaded server on ``host:port`` (0: any free port)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True, name: str) -> None:
        self.app = app
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietRequestHandler if quiet else None
        )
        self.host = host
        self.port = self._server.server_port
        self.root_url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            # A short poll interval makes shutdown() quick: it waits for the serving loop to notice.
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name,
            daemon=True,
        )

    def start(self) -> Self:
        """Serve in a daemon thread."""
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (the CLI)."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def serve_until_interrupted(self, banner: str) -> None:
        """The CLI: say where, then serve in this thread until Ctrl-C."""
        print(banner, flush=True)
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


def drop_connection() -> None:
    """Close the current request's socket without an answer (the server's later write fails quietly)."""
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
