"""A worker keeps its connection to the platform open between deliveries when the platform's server allows it
(HTTP/1.1 keep-alive), and closes one whose answer runs past the kept excerpt."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.extensions import db
from console.webhooks import delivery, endpoints
from console.webhooks.models import RESPONSE_EXCERPT_MAX
from tests import factories
from tests.webhooks.conftest import SECRET
from tests.webhooks.test_batches import _spam_events


class KeepAliveServer:
    """A platform's server that keeps connections open and counts them; answers `body` to every POST."""

    def __init__(self, body: bytes):
        self.connections: set[tuple] = set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                outer.connections.add(self.client_address)
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("body", "connections"), [(b'{"ok":true}', 1), (b"x" * (RESPONSE_EXCERPT_MAX + 100), 3)]
)
def test_deliveries_reuse_a_kept_alive_connection_unless_the_answer_is_cut(platform, ctx, body, connections):
    server = KeepAliveServer(body)
    try:
        endpoint = platform["endpoint"]
        endpoints.save_endpoint(
            endpoint, name=endpoint.name, url=server.url, secret=SECRET, actor=factories.user("admin")
        )
        db.session.commit()
        ids = _spam_events(platform, 3)
        assert [delivery.deliver(i) for i in ids] == ["delivered"] * 3
        assert len(server.connections) == connections
    finally:
        server.stop()
