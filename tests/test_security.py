"""Every page checks its role; every write needs the CSRF token."""

from tests import factories


def test_every_view_declares_its_role(app):
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        if not hasattr(view, "required_role"):
            missing.append(endpoint)
    assert missing == []


def test_every_write_route_needs_sign_in(app, client):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if "POST" not in rule.methods or getattr(view, "required_role", None) is None:
            continue
        url = rule.rule
        for arg in rule.arguments:
            url = url.replace(f"<int:{arg}>", "1").replace(f"<{arg}>", "1")
        response = client.post(url)
        # Refused before anything happens: 400 (no CSRF token) or a redirect to sign-in.
        assert response.status_code in (302, 400, 401), (url, response.status_code)


def test_missing_or_forged_csrf_token_is_a_clear_400(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue())
    auth.login("m@example.org")
    missing = client.post(f"/cases/{c.id}/decision", data={"verdict": "no_violation"})
    forged = client.post(f"/cases/{c.id}/decision", data={"verdict": "no_violation", "csrf_token": "forged"})
    for response in (missing, forged):
        assert response.status_code == 400
        assert "security token" in response.text and "nothing was changed" in response.text


def test_moderator_opening_an_admin_page_gets_403(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    auth.login("m@example.org")
    response = client.get("/settings/")
    assert response.status_code == 403 and "Not allowed" in response.text


def test_admin_sees_settings(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    assert client.get("/settings/").status_code == 200
    assert 'href="/settings/"' in client.get("/queues").text


def test_security_headers(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    auth.login("m@example.org")
    response = client.get("/queues")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
