"""Admins create API tokens (shown once, stored as SHA-256) and revoke them; moderators cannot."""

import hashlib
import re

from sqlalchemy import select

from console.api import tokens
from console.api.models import ApiToken
from console.audit import AuditEvent
from console.extensions import db
from tests import factories

TOKEN_RE = re.compile(r'id="new-token" value="(mc_[A-Za-z0-9_-]+)"')


def _post_case_with(client, raw):
    return client.post(
        "/api/v1/cases", json={}, headers={"Authorization": f"Bearer {raw}"} if raw is not None else {}
    )


def test_admin_creates_a_token_that_is_shown_once_and_stored_as_a_hash(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    assert "API tokens" in client.get("/settings/").text

    response = auth.post("/settings/api-tokens/", {"name": "upload-scanner"})
    assert response.status_code == 201
    raw = TOKEN_RE.search(response.text).group(1)
    assert "only time" in response.text

    token = db.session.scalar(select(ApiToken))
    assert token.name == "upload-scanner"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix) and raw not in (token.prefix, token.token_hash)

    listing = client.get("/settings/api-tokens/").text
    assert "upload-scanner" in listing and token.prefix in listing and raw not in listing
    assert tokens.verify_token(raw).name == "upload-scanner"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token_created"))
    assert event.details["name"] == "upload-scanner" and raw not in str(event.details)


def test_htmx_create_returns_the_panel_with_the_token(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    response = auth.post("/settings/api-tokens/", {"name": "scanner"}, htmx=True)
    assert response.status_code == 200
    assert '<div id="api-tokens">' in response.text and "<html" not in response.text
    assert TOKEN_RE.search(response.text)


def test_a_name_is_required_and_unique_among_active_tokens(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    assert auth.post("/settings/api-tokens/", {"name": " "}).status_code == 422
    assert auth.post("/settings/api-tokens/", {"name": "scanner"}).status_code == 201
    again = auth.post("/settings/api-tokens/", {"name": "scanner"})
    assert again.status_code == 422 and "already named" in again.text
    assert db.session.scalar(select(db.func.count(ApiToken.id))) == 1


def test_revoked_token_is_refused_with_401(ctx, client, auth):
    admin = factories.user("admin", email="a@example.org")
    token, raw = tokens.create_token("scanner", admin)
    assert _post_case_with(client, raw).status_code == 422  # a known caller: only the body is refused
    auth.login("a@example.org")

    response = auth.post(f"/settings/api-tokens/{token.id}/revoke", htmx=True)
    assert response.status_code == 200
    assert f'id="api-token-{token.id}"' in response.text and "Revoked" in response.text
    assert "<html" not in response.text

    refused = _post_case_with(client, raw)
    assert refused.status_code == 401
    assert refused.json == {"errors": {"authorization": "the token is missing, unknown or revoked"}}
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    # Revoking twice records one revocation.
    auth.post(f"/settings/api-tokens/{token.id}/revoke")
    revocations = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token_revoked")).all()
    assert len(revocations) == 1 and revocations[0].actor_id == admin.id


def test_revoke_without_javascript_redirects_back_to_the_list(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    token, _raw = tokens.create_token("scanner")
    auth.login("a@example.org")
    response = auth.post(f"/settings/api-tokens/{token.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"].endswith("/settings/api-tokens/")
    assert "revoked" in client.get("/settings/api-tokens/").text


def test_missing_unknown_or_malformed_token_is_401(ctx, client):
    assert _post_case_with(client, None).status_code == 401
    assert _post_case_with(client, "mc_not-a-real-token").status_code == 401
    assert _post_case_with(client, "").status_code == 401
    basic = client.post("/api/v1/cases", json={}, headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401 and "errors" in basic.json


def test_last_used_is_recorded(ctx, client):
    token, raw = tokens.create_token("scanner")
    assert token.last_used_at is None
    _post_case_with(client, raw)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at is not None


def test_last_used_is_written_at_most_once_a_minute(ctx, client):
    """Every call reads the token; only a call a minute or more after the recorded use writes it again."""
    from sqlalchemy import update

    token, raw = tokens.create_token("scanner")
    _post_case_with(client, raw)
    db.session.expire_all()
    first = db.session.get(ApiToken, token.id).last_used_at
    assert tokens.verify_token(raw).name == "scanner"
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first
    earlier = first - tokens.LAST_USED_RESOLUTION
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=earlier))
    db.session.commit()
    assert tokens.verify_token(raw).name == "scanner"
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at > first


def test_moderators_get_403_on_token_pages(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    token, _raw = tokens.create_token("scanner")
    auth.login("m@example.org")
    assert client.get("/settings/api-tokens/").status_code == 403
    assert auth.post("/settings/api-tokens/", {"name": "mine"}).status_code == 403
    assert auth.post(f"/settings/api-tokens/{token.id}/revoke").status_code == 403
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_token_pages_need_csrf(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    token, _raw = tokens.create_token("scanner")
    auth.login("a@example.org")
    assert client.post(f"/settings/api-tokens/{token.id}/revoke").status_code == 400
    assert client.post("/settings/api-tokens/", data={"name": "x"}).status_code == 400


def test_cli_creates_a_token_and_prints_it_once(ctx, runner):
    result = runner.invoke(args=["api", "create-token", "batch-importer"])
    assert result.exit_code == 0, result.output
    raw = result.stdout.strip()
    assert tokens.verify_token(raw).name == "batch-importer"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token_created"))
    assert event.actor_label == "cli"
    again = runner.invoke(args=["api", "create-token", "batch-importer"])
    assert again.exit_code != 0 and "already named" in again.output
