"""Shared steps for the security tests: a second browser holding a copy of someone's session cookie."""

from __future__ import annotations

from tests.conftest import csrf_from


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "not signed in"
    return cookie.value


def browser_with_cookie(app, value: str):
    """A different browser (say, an attacker's) that replays a copied session cookie."""
    other = app.test_client()
    other.set_cookie("session", value)
    return other


def sign_in(client, email: str, password: str, *, next_url: str | None = None, address: str = "127.0.0.1"):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    url = "/login" if next_url is None else "/login?next=" + next_url
    return client.post(
        url,
        data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
        environ_base={"REMOTE_ADDR": address},
    )
