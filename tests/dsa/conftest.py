"""A stand-in per test, a client pointed at it, and a statement a moderator's decision would produce."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from console.dsa import (
    AutomatedDecision,
    Category,
    ContentType,
    DecisionVisibility,
    IllegalContent,
    SourceType,
    Statement,
    TransparencyDatabaseClient,
)
from dsa_standin import StandinServer, serve_in_thread

TOKEN = "1|dsa-test-token"  # the service's token shape: <number>|<random>
NO_PLATFORM_TOKEN = "2|a-user-without-a-platform"
PLATFORM = "Test platform"
# The service holds a PUID's lock for 30 s; the tests' stand-in and client agree on one second.
LOCK_SECONDS = 1.0


def statement(puid: str = "decision-1", **changes: Any) -> Statement:
    """A spam post removed by a moderator after a user's notice: valid for the console and the service."""
    made = Statement(
        puid=puid,
        ground=IllegalContent(
            "Art. 6 Unfair Commercial Practices Directive", "Mass unsolicited advertising."
        ),
        category=Category.SCAMS_AND_FRAUD,
        content_types=(ContentType.TEXT,),
        decision_facts="The post advertised a fake prize draw and was removed.",
        source_type=SourceType.ARTICLE_16,
        automated_detection=False,
        automated_decision=AutomatedDecision.NOT_AUTOMATED,
        content_date=date(2026, 11, 20),
        application_date=date(2026, 11, 21),
        territorial_scope=("DE", "FR"),
        visibility=(DecisionVisibility.CONTENT_REMOVED,),
    )
    return dataclasses.replace(made, **changes)


def raw_post(
    server: StandinServer,
    path: str,
    body: Any,
    *,
    token: str | None = TOKEN,
    accept: bool = True,
    **kwargs: Any,
) -> requests.Response:
    """A sender's POST with no console code in between."""
    headers = {"Accept": "application/json"} if accept else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.post(
        f"{server.base_url}{path}", json=body, headers=headers, timeout=10, allow_redirects=False, **kwargs
    )


def raw_get(server: StandinServer, path: str, *, token: str | None = TOKEN) -> requests.Response:
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(f"{server.base_url}{path}", headers=headers, timeout=10, allow_redirects=False)


@contextmanager
def answering(handler: Callable[[Request], Response]) -> Iterator[str]:
    """A server answering every request with ``handler``: for answers the stand-in never gives (the API's
    documentation where it differs from the code, or answers outside the API)."""
    server = make_server("127.0.0.1", 0, Request.application(handler), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    server = serve_in_thread({TOKEN: PLATFORM, NO_PLATFORM_TOKEN: None}, lock_seconds=LOCK_SECONDS)
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def client(standin: StandinServer) -> TransparencyDatabaseClient:
    return TransparencyDatabaseClient(standin.base_url, TOKEN, read_timeout=2, puid_lock_seconds=LOCK_SECONDS)
