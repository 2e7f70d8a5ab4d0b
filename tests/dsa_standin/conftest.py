"""A stand-in per test and a sender that speaks to it in raw HTTP (no console code in between)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from dsa_standin import StandinServer, serve_in_thread

TOKEN = "7|standin-test-token"
OTHER_TOKEN = "8|another-platforms-token"
NO_PLATFORM_TOKEN = "9|no-platform"
LOCK_SECONDS = 1.0

# A statement as API.md §4 describes one: a removed spam post, illegal content, noticed by a user.
VALID: dict[str, Any] = {
    "decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
    "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
    "illegal_content_legal_ground": "Art. 6 UCPD",
    "illegal_content_explanation": "Mass unsolicited advertising.",
    "content_type": ["CONTENT_TYPE_TEXT"],
    "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "territorial_scope": ["FR", "DE"],
    "content_date": "2026-11-20",
    "application_date": "2026-11-21",
    "decision_facts": "A fake prize draw.",
    "source_type": "SOURCE_ARTICLE_16",
    "automated_detection": "No",
    "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED",
    "puid": "post-1",
}


def sor(puid: str = "post-1", **changes: Any) -> dict[str, Any]:
    return {**VALID, "puid": puid, **changes}


class Sender:
    """A platform's calls, each returning the raw response."""

    def __init__(self, server: StandinServer, token: str | None = TOKEN) -> None:
        self.server = server
        self.token = token

    def headers(self, accept: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json"} if accept else {}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def post(self, path: str, body: Any, *, accept: bool = True, **kwargs: Any) -> requests.Response:
        return requests.post(
            f"{self.server.base_url}{path}",
            json=body,
            headers=self.headers(accept),
            timeout=10,
            allow_redirects=False,
            **kwargs,
        )

    def get(self, path: str) -> requests.Response:
        return requests.get(
            f"{self.server.base_url}{path}", headers=self.headers(), timeout=10, allow_redirects=False
        )

    def one(self, body: Any, **kwargs: Any) -> requests.Response:
        return self.post("/api/v1/statement", body, **kwargs)

    def many(self, statements: list, **kwargs: Any) -> requests.Response:
        return self.post("/api/v1/statements", {"statements": statements}, **kwargs)

    def lookup(self, puid: str) -> requests.Response:
        return self.get(f"/api/v1/statement/existing-puid/{puid}")


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    server = serve_in_thread(
        {TOKEN: "Platform A", OTHER_TOKEN: "Platform B", NO_PLATFORM_TOKEN: None}, lock_seconds=LOCK_SECONDS
    )
    try:
        yield server
    finally:
        server.shutdown()


@pytest.fixture
def platform(standin: StandinServer) -> Sender:
    return Sender(standin)
