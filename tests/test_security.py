"""Every page checks its role; every write needs the CSRF token."""

import re

from console.extensions import db
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
    from sqlalchemy import select

    from console import demo
    from console.extensions import db
    from console.webhooks import endpoints as webhook_endpoints
    from console.webhooks import service as webhook_service
    from console.webhooks.models import WebhookAction, WebhookAllowedHost, WebhookEndpoint

    demo.connect_platform("http://127.0.0.1:9/hooks", webhook_endpoints.generate_secret())
    host = db.session.scalar(select(WebhookAllowedHost))
    endpoint = db.session.scalar(select(WebhookEndpoint))
    action = db.session.scalar(select(WebhookAction))
    event_job = webhook_service.emit("content.remove", endpoint.id, {}, case_id=case.id)
    db.session.commit()
    ids = {
        "endpoint_id": endpoint.id,
        "action_id": action.id,
        "event_id": event_job.args[0],
        "host_id": host.id,
        "case_id": case.id,
        "media_id": case.media[0].id,
        "queue_id": queue.id,
        "rule_id": rule.id,
        "token_id": token.id,
        "agency_id": agencies.ncmec().id,
        "report_id": 1,
        "file_id": 1,
        "hold_id": 1,
        "user_id": admin.id,
        "reported_user_id": case.reported_user_id,
        "mapping_id": 1,
        "policy_id": tree["csam"].id,
        "sor_id": 1,
        "name": "sandbox",  # a DSA environment (console/sor/views.py)
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
        url = url.replace(f"<int:{arg}>", str(values[arg])).replace(f"<{arg}>", str(values[arg]))
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
        if rule.endpoint == "ops.readyz":
            # 503 is readiness's own answer ("not ready": no worker runs here), always JSON naming the checks.
            for query in HOSTILE_QUERIES:
                response = client.get(rule.rule + query)
                assert response.status_code in (200, 503) and "checks" in response.json, query
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


# --- child-safety material: only for holders of the permission (18 U.S.C. §2258B(c)) -----------------------

MARKER = "cs-marker-7f3a"
# URL arguments that name child-safety material in the world below: every route taking one refuses someone
# without the permission, whatever it does (a page, a file, a claim, a decision, an escalation, a download).
CHILD_SAFETY_ARGS = {"case_id", "media_id", "report_id", "file_id", "hold_id", "queue_id"}
# Routes that show child-safety material whatever they are asked: NCMEC reports, their evidence, the cases
# waiting for a report.
ALWAYS_CHILD_SAFETY = {"reporting.reports", "reporting.required_cases", "evidence.index"}


def _child_safety_world():
    """A child-safety queue with a case (an image, revealed; a report and its file; a hold; a reported user
    known only from it), a case under a child-safety policy in an ordinary queue (past its SLA, claimed, and
    assigned to the outsider as it was before the permission was taken away), and admins: two with the
    permission, one without."""
    from console.cases import claims
    from console.cases import service as cases
    from console.childsafety import service as care
    from console.evidence import retention
    from console.reporting import filing
    from tests.settings.helpers import make_rule

    holder = factories.user("admin", email="holder@example.org")
    colleague = factories.user("admin", email="colleague@example.org")
    outsider = factories.user("admin", email="outsider@example.org", child_safety=False)
    tree = factories.policy_tree()
    restricted = factories.queue("Child safety", "user_report")
    ordinary = factories.queue("User reports", "user_report")
    care.mark_policies({tree["child-safety"].id}, actor_label="test")
    care.mark_queues({restricted.id}, actor_label="test")
    known_from_it = {"platform_id": "u-cs", "name": f"{MARKER} user", "email": f"{MARKER}@platform.example"}
    case = factories.case(restricted, text=f"{MARKER} in the queue", images=1, reported_user=known_from_it)
    case.media[0].original_name = f"{MARKER}.png"
    by_policy = factories.case(
        ordinary, text=f"{MARKER} by its policy", policy=tree["grooming"], hours_ago=30
    )
    spam = factories.case(ordinary, text="ordinary spam", policy=tree["spam"], hours_ago=30)
    factories.case(ordinary, text="ordinary new spam", policy=tree["spam"])
    by_policy.assigned_to_id = outsider.id
    cases.reveal(case.media[0].id, case.id, holder)
    report, _ = filing.create_report(case, make_rule(tree, restricted), factories.CSAM, triggered_by="human")
    hold = retention.place_hold(reported_user_id=case.reported_user_id, reason="test", actor=holder)
    db.session.commit()
    claims.claim(spam.id, holder)
    claims.claim(by_policy.id, colleague)
    ids = {
        "case_id": case.id,
        "media_id": case.media[0].id,
        "queue_id": restricted.id,
        "report_id": report.id,
        "file_id": report.files[0].id,
        "hold_id": hold.id,
        "reported_user_id": case.reported_user_id,
        "user_id": holder.id,
    }
    keep_marks = {"queues": [str(restricted.id)], "policies": [str(tree["child-safety"].id)]}
    return ids, ordinary.id, keep_marks


def _counts_shown(client, queue_id: int) -> dict[str, int]:
    """The queues page's row for a queue, and its own page's heading, as numbers."""
    row = re.search(rf'<tr data-queue="{queue_id}">(.*?)</tr>', client.get("/queues").text, re.S).group(1)
    counts = {k: int(v) for k, v in re.findall(r'data-count="([a-z-]+)">(\d+)<', row)}
    heading = re.search(r'data-count="open">(\d+)<', client.get(f"/queues/{queue_id}").text).group(1)
    return {**counts, "heading": int(heading)}


def _rows_shown(client, queue_id: int) -> dict[str, int]:
    """What the queue's page lists: its open cases, those being reviewed, those past the SLA."""
    page = client.get(f"/queues/{queue_id}").text
    rows = page.split('<tbody id="case-rows">', 1)[1].split("</tbody>", 1)[0]
    return {
        "open": rows.count("data-row-link"),
        "claimed": rows.count("reviewing</span>"),
        "past-sla": rows.count('class="past-sla"'),
    }


def _restricted(rule) -> bool:
    return rule.endpoint in ALWAYS_CHILD_SAFETY or bool(CHILD_SAFETY_ARGS & set(rule.arguments))


def test_without_the_child_safety_permission_no_route_shows_child_safety_material(app, client, auth):
    """Every route, as an admin (who passes every role check) without the permission: the routes about
    child-safety material refuse with 403, and no page anywhere shows any of it."""
    from tests.conftest import csrf_from

    with app.app_context():
        ids, ordinary_id, keep_marks = _child_safety_world()
    auth.login("outsider@example.org")
    token = csrf_from(client.get("/queues").text)
    form = {"csrf_token": token, "verdict": "violation", "note": "n", "reason": "r", **keep_marks}
    refused, seen = [], []
    for rule, view in _routes(app):
        if getattr(view, "required_role", None) is None or rule.endpoint == "accounts.logout":
            continue
        url = _url(rule, {arg: ids.get(arg, 1) for arg in rule.arguments})
        for method in ("GET", "POST"):
            if method not in rule.methods:
                continue
            response = client.get(url) if method == "GET" else client.post(url, data=form)
            seen.append((method, url, response.status_code))
            assert MARKER not in response.get_data(as_text=True), (method, url)
            if _restricted(rule):
                assert response.status_code == 403, (method, url, response.status_code)
                refused.append(rule.endpoint)
    assert {
        "cases.show",
        "cases.media_file",
        "cases.reveal",
        "reporting.new_report",
        "reporting.report_xml",
    } <= (set(refused))
    assert len(refused) >= 20 and [s for s in seen if s[2] >= 500] == []

    # An ordinary queue lists its ordinary cases, not the one under a child-safety policy.
    page = client.get(f"/queues/{ordinary_id}").text
    assert "ordinary spam" in page and MARKER not in page
    assert "Child safety" not in client.get("/queues").text  # the marked queue is not listed
    assert "Nothing is assigned to you" in client.get("/assigned").text
    # Every count equals the rows shown ("7 open" above 4 rows, the sweep found).
    shown, rows = _counts_shown(client, ordinary_id), _rows_shown(client, ordinary_id)
    assert rows == {"open": 2, "claimed": 1, "past-sla": 1}
    assert shown == {"open": 2, "heading": 2, "claimed": 1, "past-sla": 1}

    # The same pages open for a holder: the refusals come from the permission, not from anything else; and
    # the holder's counts are the queue's own counters.
    auth.post("/logout")
    auth.login("holder@example.org")
    assert _rows_shown(client, ordinary_id) == {"open": 3, "claimed": 2, "past-sla": 2}
    assert _counts_shown(client, ordinary_id) == {"open": 3, "heading": 3, "claimed": 2, "past-sla": 2}
    for rule, view in _routes(app):
        if _restricted(rule) and "GET" in rule.methods and getattr(view, "required_role", None):
            url = _url(rule, {arg: ids.get(arg, 1) for arg in rule.arguments})
            if rule.endpoint == "cases.media_file":
                # A file's bytes need the token of a reveal made on the page (cases/showings.py).
                reveal = auth.post(f"/cases/{ids['case_id']}/media/{ids['media_id']}/reveal", htmx=True)
                url = re.search(r'src="([^"]+/file\?reveal=[^"]+)"', reveal.text).group(1)
            assert client.get(url).status_code != 403, url
