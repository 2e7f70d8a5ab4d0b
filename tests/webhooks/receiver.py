"""A platform's webhook receiver for tests, over real HTTP: every delivery verified with `standardwebhooks`.

It shares no code with console/webhooks: the signature, the timestamp and the id are checked by the library,
as a platform following the Standard Webhooks spec would. What it answers is scripted per delivery
(`answers`: a status, a delay, a redirect), then 200.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


@dataclass
class Received:
    headers: dict
    body: bytes
    verified_with: list[int]  # indexes of the receiver's secrets that verify it
    error: str
    at: float

    @property
    def id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    delay: float = 0.0
    location: str = ""
    body: str = '{"ok": true}'


@dataclass
class Receiver:
    secrets: list[str]
    received: list[Received] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    # Answers to enrichment requests (the platform's data about the user and the files), then "{}".
    enrichment: list[Answer] = field(default_factory=list)
    latency: float = 0.0  # every answer waits this long (a platform's own processing time)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True, request_handler=_Quiet)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _app(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        verified, error = [], ""
        for i, secret in enumerate(self.secrets):
            try:
                Webhook(secret).verify(body, request.headers)
                verified.append(i)
            except WebhookVerificationError as e:
                error = str(e)
        with self._lock:
            self.received.append(
                Received(
                    {k.lower(): v for k, v in request.headers.items()}, body, verified, error, time.time()
                )
            )
            asks = b'"type":"enrichment.request"' in body
            queue = self.enrichment if asks else self.answers
            answer = queue.pop(0) if queue else Answer(body="{}" if asks else '{"ok": true}')
        time.sleep(self.latency + answer.delay)
        if not verified:
            response = Response("signature refused", 400)
        else:
            response = Response(answer.body, answer.status, content_type="application/json")
            if answer.location:
                response.headers["Location"] = answer.location
        return response(environ, start_response)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.time() + timeout
        while len(self.received) < count and time.time() < deadline:
            time.sleep(0.02)
        return list(self.received)
