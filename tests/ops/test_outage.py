"""What the console answers while the database or Redis is down (console/ops/outage.py), in-process and on
both configurations. The same, with the parts really restarted under a running console, is tests/infra."""

from __future__ import annotations

import json

import pytest

from console import create_app
from console.api import tokens
from console.extensions import db
from tests import factories
from tests.conftest import _config

# Nothing listens on port 1: a refused connection, as while PostgreSQL or Redis restarts.
DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/gone"
DEAD_REDIS = "redis://127.0.0.1:1/0"


def _app_with(migrated, redis_url, tmp_path, **overrides):
    app = create_app({**_config(migrated, redis_url, tmp_path), **overrides})
    return app


def _detection(content_id: str) -> dict:
    return {
        "content_id": content_id,
        "reported_at": "2026-11-20T08:00:00Z",
        "source_kind": "proactive",
        "content_url": f"https://platform.example/p/{content_id}",
        "reported_user": {"platform_id": "u-1", "name": "Sam"},
    }


@pytest.fixture
def signed_in_cookie(ctx, client, auth):
    """A moderator's session cookie and an API token, made while everything is up."""
    factories.queue("Proactive", "proactive")
    moderator = factories.user("moderator", email="mo@example.org")
    _token, raw = tokens.create_token("scanner")
    db.session.commit()
    auth.login(moderator.email)
    db.session.commit()  # SQLite: the other app's requests must not wait for this session's write lock
    return client.get_cookie("session").value, raw


def test_database_down_pages_answer_503_with_a_page_of_their_own(
    signed_in_cookie, migrated, redis_url, tmp_path
):
    cookie, raw = signed_in_cookie
    down = _app_with(migrated, redis_url, tmp_path, SQLALCHEMY_DATABASE_URI=DEAD_DATABASE)
    client = down.test_client()
    client.set_cookie("session", cookie)
    page = client.get("/queues")
    assert page.status_code == 503
    assert 'data-part="database"' in page.text and "The database is not answering" in page.text
    assert "Traceback" not in page.text and "Sign out" not in page.text  # no signed-in menu: no user loaded
    assert page.headers["Retry-After"] == "30" and page.headers["Cache-Control"] == "no-store"
    fragment = client.get("/queues", headers={"HX-Request": "true"})
    assert (
        fragment.status_code == 503
        and "<html" not in fragment.text
        and 'data-part="database"' in fragment.text
    )
    api = client.post(
        "/api/v1/cases",
        data=json.dumps(_detection("p-1")),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert set(api.json["errors"]) == {"database"} and api.json["retry_after"] == 30
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json == {"ready": False}


def test_redis_down_pages_and_ingestion_go_on_and_sign_in_says_why_not(
    signed_in_cookie, migrated, tmp_path, ctx
):
    cookie, raw = signed_in_cookie
    down = _app_with(migrated, DEAD_REDIS, tmp_path)
    client = down.test_client()
    client.set_cookie("session", cookie)
    assert client.get("/queues").status_code == 200  # sessions are cookies: no Redis needed
    api = client.post(
        "/api/v1/cases",
        data=json.dumps(_detection("p-2")),
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert api.status_code == 201, api.json  # the row is the truth; the sweep enqueues what it needs
    fresh = down.test_client()
    login = fresh.get("/login")
    token = login.text.split('name="csrf-token" content="')[1].split('"')[0]
    attempt = fresh.post("/login", data={"email": "mo@example.org", "password": "x", "csrf_token": token})
    assert attempt.status_code == 503 and 'data-part="redis"' in attempt.text  # the limits live in Redis
    assert "Traceback" not in attempt.text
