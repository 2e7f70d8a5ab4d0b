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


# --- the sweep with a stolen cookie and with hostile values -----------------------------------------------

HUGE = "99999999999999999999999"
# Query strings every GET route is sent: cursors and filters out of range, forged keyset cursors (an id no
# column holds; a date before year 1 in UTC), a lone surrogate's UTF-8 bytes, line breaks, a long value.
HOSTILE_QUERIES = [
    f"?after={HUGE}&before={HUGE}&policy={HUGE}&status=all",
    f"?before=-{HUGE}&policy=-{HUGE}",
    "?after=MDAwMS0wMS0wMVQwMDowMDowMCsxNDowMHwx",  # "0001-01-01T00:00:00+14:00|1"
    # "2024-05-01T00:00:00+00:00|" + HUGE
    "?after=MjAyNC0wNS0wMVQwMDowMDowMCswMDowMHw5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ",
    "?state=%ED%A0%80&type=%0d%0a&next=/%09/evil.example&q=" + "x" * 5000,
]


def _sweep_world():
    admin = factories.user("admin", email="admin@example.org")
    tree = factories.policy_tree()
    queue = factories.queue("AI review", "ai_review")
    case = factories.case(queue, images=1)
    from console.api import tokens
    from console.reporting import agencies
    from tests.settings.helpers import make_rule

    rule = make_rule(tree, queue)
    token, raw = tokens.create_token("scanner")
    ids = {
        "case_id": case.id,
        "media_id": case.media[0].id,
        "queue_id": queue.id,
        "rule_id": rule.id,
        "token_id": token.id,
        "agency_id": agencies.ncmec().id,
        "report_id": 1,
        "file_id": 1,
        "hold_id": 1,
    }
    return admin, ids, raw


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule, app.view_functions[rule.endpoint]


def _url(rule, values: dict) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = url.replace(f"<int:{arg}>", str(values[arg]))
    return url


def test_after_sign_out_the_old_cookie_opens_no_route(app, client, auth):
    from tests.conftest import csrf_from
    from tests.security.helpers import browser_with_cookie, session_cookie

    with app.app_context():
        _admin, ids, _raw = _sweep_world()
    auth.login("admin@example.org")
    token = csrf_from(client.get("/queues").text)
    stolen = session_cookie(client)
    auth.post("/logout")
    thief = browser_with_cookie(app, stolen)

    checked = 0
    for rule, view in _routes(app):
        if getattr(view, "required_role", None) is None:
            continue
        url = _url(rule, ids)
        if "GET" in rule.methods:
            response = thief.get(url)
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        if "POST" in rule.methods:
            response = thief.post(url, data={"csrf_token": token, "verdict": "no_violation", "name": "x"})
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        checked += 1
    assert checked >= 30


def _hostile_forms(token: str) -> list[dict]:
    fields = {
        "verdict": "violation",
        "policy": HUGE,
        "policies": [HUGE, "-1"],
        "agency": HUGE,
        "review_queue": HUGE,
        "enabled": "2",
        "name": "n" * 10_000,
        "note": "x" * 100_000,
        "reason": "r" * 100_000,
        "environment": "custom",
        "custom_base_url": "http://[::1",
        "username": "u" * 5_000,
        "password": "",
        "contact_first_name": "F" * 500,
        "contact_last_name": "",
        "contact_email": "@" * 300,
        "next": "//evil.example",
        "incident_type": HUGE,
        "media": [HUGE],
    }
    return [
        {"csrf_token": token, **fields},
        {"csrf_token": token, "note": "nul\x00", "name": "esc\x1b"},
    ]


def test_hostile_values_on_every_route_never_cause_a_5xx(app, client, auth):
    """Every route, signed in as an admin: out-of-range ids, hostile query strings and form values."""
    from tests.conftest import csrf_from

    with app.app_context():
        _admin, ids, raw = _sweep_world()
    auth.login("admin@example.org")
    token = csrf_from(client.get("/queues").text)
    id_sets = [ids, dict.fromkeys(ids, HUGE), dict.fromkeys(ids, "0")]
    seen = []
    for rule, _view in _routes(app):
        if rule.endpoint == "accounts.logout":
            continue
        for values in id_sets:
            url = _url(rule, values)
            if "GET" in rule.methods:
                for query in HOSTILE_QUERIES:
                    response = client.get(url + query)
                    seen.append((url + query[:40], response.status_code))
            if "POST" in rule.methods:
                for form in _hostile_forms(token):
                    response = client.post(url, data=form, headers={"Authorization": f"Bearer {raw}"})
                    seen.append((url, response.status_code))
                    response = client.post(url, data=form, headers={"HX-Request": "true"})
                    seen.append((url, response.status_code))
    api_bodies = [
        "[" * 100_000,
        '{"content_id": "\\u0000", "reported_at": "0001-01-01T00:00:00+14:00"}',
        '{"content_id": "\\ud800", "reported_user": {"platform_id": 1e999}}',
        '{"reported_user": {"platform_id": "a", "ip_events": [{"ip": "::1", "port": ' + HUGE + "}]}}",
    ]
    for body in api_bodies:
        response = client.post(
            "/api/v1/cases",
            data=body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {raw}"},
        )
        seen.append(("/api/v1/cases", response.status_code))
        assert response.is_json
    assert [s for s in seen if s[1] >= 500] == []
    assert len(seen) > 150
