"""An admin connects NCMEC and manages reporting rules under Settings → External reporting."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from console.audit import AuditEvent
from console.extensions import db
from console.policies.models import Policy
from console.reporting import agencies, credentials, rules
from console.reporting.models import ExternalReport, ReportingRule
from tests import factories
from tests.settings.helpers import PAGE, SECRET, admin_world, connect, make_rule, rule_data


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_sees_ncmec_as_an_available_agency(ctx, client, auth):
    admin_world()
    auth.login("admin@example.org")
    assert 'href="/settings/external-reporting"' in client.get("/settings/").text
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "NCMEC" in page.text and "not connected" in page.text and "No reporting rules yet" in page.text


def test_signed_out_user_is_sent_to_sign_in(ctx, client):
    for url in (PAGE, "/settings/audit-log", f"{PAGE}/rules/new"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the connection ---


def test_admin_connects_ncmec_and_the_password_is_stored_encrypted(ctx, client, auth):
    admin_world()
    auth.login("admin@example.org")
    data = {
        "environment": "custom",
        "custom_base_url": "http://127.0.0.1:9/",
        "username": "esp-user",
        "password": SECRET,
    }
    response = auth.post(f"{PAGE}/agencies/{agencies.ncmec().id}/connection", data, token_from=PAGE)
    assert response.status_code == 302

    db.session.expire_all()
    agency = agencies.ncmec()
    assert (agency.environment, agency.custom_base_url, agency.username) == (
        "custom",
        "http://127.0.0.1:9",
        "esp-user",
    )
    raw = db.session.execute(text("SELECT password_encrypted FROM agencies WHERE slug='ncmec'")).scalar_one()
    assert SECRET.encode() not in bytes(raw)
    assert credentials.decrypt(raw) == SECRET
    (event,) = events("agency_configured")
    assert event.actor.email == "admin@example.org"
    assert event.details["after"]["username"] == "esp-user" and event.details["password_changed"] is True
    assert SECRET not in str(event.details)


def test_leaving_the_password_blank_keeps_the_stored_one(ctx, client, auth):
    admin_world()
    connect("http://127.0.0.1:9", "esp-user", SECRET)
    auth.login("admin@example.org")
    data = {"environment": "custom", "custom_base_url": "http://127.0.0.1:9/", "username": "esp-user"}
    url = f"{PAGE}/agencies/{agencies.ncmec().id}/connection"
    response = auth.post(url, {**data, "password": ""}, htmx=True, token_from=PAGE)
    assert response.status_code == 200 and "Connection settings saved" in response.text
    db.session.expire_all()
    assert credentials.decrypt(agencies.ncmec().password_encrypted) == SECRET


def test_a_new_address_or_username_needs_the_password_again(ctx, client, auth):
    admin_world()
    connect("http://127.0.0.1:9", "esp-user", SECRET)
    auth.login("admin@example.org")
    url = f"{PAGE}/agencies/{agencies.ncmec().id}/connection"
    for change in (
        {"environment": "test", "custom_base_url": "", "username": "esp-user"},
        {"environment": "custom", "custom_base_url": "http://127.0.0.1:10", "username": "esp-user"},
        {"environment": "custom", "custom_base_url": "http://127.0.0.1:9", "username": "esp-user-2"},
    ):
        response = auth.post(url, {**change, "password": ""}, htmx=True, token_from=PAGE)
        assert "Enter the password again" in response.text, change
    db.session.expire_all()
    agency = agencies.ncmec()
    assert (agency.environment, agency.custom_base_url, agency.username) == (
        "custom",
        "http://127.0.0.1:9",
        "esp-user",
    )

    data = {"environment": "test", "username": "esp-user-2", "password": "new"}
    response = auth.post(url, data, token_from=PAGE)
    assert response.status_code == 302
    db.session.expire_all()
    agency = agencies.ncmec()
    assert (agency.environment, agency.username) == ("test", "esp-user-2")
    assert credentials.decrypt(agency.password_encrypted) == "new"


def test_connection_form_errors(ctx, client, auth):
    admin_world()
    auth.login("admin@example.org")
    url = f"{PAGE}/agencies/{agencies.ncmec().id}/connection"
    response = auth.post(
        url, {"environment": "custom", "custom_base_url": "", "username": "", "password": ""}, token_from=PAGE
    )
    assert response.status_code == 422
    assert "Enter the ESP username." in response.text
    response = auth.post(
        url,
        {"environment": "custom", "custom_base_url": "ftp://x", "username": "u", "password": ""},
        token_from=PAGE,
    )
    assert response.status_code == 422
    assert "starting with https://" in response.text and "Enter the ESP password." in response.text
    assert not agencies.is_configured(agencies.ncmec())
    assert events("agency_configured") == []


def test_test_connection_shows_connected(ctx, client, auth, ncmec_simulator):
    admin_world()
    connect(ncmec_simulator.base_url, ncmec_simulator.username, ncmec_simulator.password)
    auth.login("admin@example.org")
    response = auth.post(f"{PAGE}/agencies/{agencies.ncmec().id}/test", htmx=True, token_from=PAGE)
    assert response.status_code == 200
    assert "Connected" in response.text and "Last checked" in response.text
    assert 'id="connection-status-' in response.text and "<html" not in response.text
    db.session.expire_all()
    agency = agencies.ncmec()
    assert agency.last_check_status == "connected" and agency.last_check_at is not None
    assert "Connected" in client.get(PAGE).text


def test_test_connection_with_wrong_credentials(ctx, client, auth, ncmec_simulator):
    admin_world()
    connect(ncmec_simulator.base_url, ncmec_simulator.username, "not-the-password")
    auth.login("admin@example.org")
    response = auth.post(f"{PAGE}/agencies/{agencies.ncmec().id}/test", htmx=True, token_from=PAGE)
    assert "Wrong credentials" in response.text
    assert agencies.ncmec().last_check_status == "wrong_credentials"
    # The badge beside the agency's name follows the test, in the same answer (out of band) and on the page.
    badge = re.search(
        r'<span class="badge bad" id="agency-badge-\d+" hx-swap-oob="true">([^<]*)</span>', response.text
    )
    assert badge and badge.group(1).startswith("connection failed"), response.text
    page = client.get(PAGE).text
    assert "connection failed" in page and "connected to" not in page

    connect(ncmec_simulator.base_url, ncmec_simulator.username, ncmec_simulator.password)
    response = auth.post(f"{PAGE}/agencies/{agencies.ncmec().id}/test", htmx=True, token_from=PAGE)
    assert re.search(
        r'<span class="badge ok" id="agency-badge-\d+" hx-swap-oob="true">connected to ', response.text
    )


def test_test_connection_when_unreachable_without_javascript(ctx, client, auth):
    admin_world()
    connect("http://127.0.0.1:9", "esp-user", SECRET)  # the discard port: nothing listens
    auth.login("admin@example.org")
    response = auth.post(f"{PAGE}/agencies/{agencies.ncmec().id}/test", token_from=PAGE)
    assert response.status_code == 302
    page = client.get(PAGE).text
    assert "Unreachable" in page and "Test connection: Unreachable" in page


def test_test_connection_before_configuring(ctx, client, auth):
    admin_world()
    auth.login("admin@example.org")
    response = auth.post(f"{PAGE}/agencies/{agencies.ncmec().id}/test", htmx=True, token_from=PAGE)
    assert "Not configured" in response.text


def test_the_password_is_never_in_a_response(ctx, client, auth, ncmec_simulator, runner):
    _admin, policies, ai_queue, _other = admin_world()
    make_rule(policies, ai_queue)
    auth.login("admin@example.org")
    agency_id = agencies.ncmec().id
    data = {
        "environment": "custom",
        "custom_base_url": ncmec_simulator.base_url,
        "username": ncmec_simulator.username,
        "password": ncmec_simulator.password,
    }
    responses = [
        auth.post(f"{PAGE}/agencies/{agency_id}/connection", data, htmx=True, token_from=PAGE),
        auth.post(f"{PAGE}/agencies/{agency_id}/connection", data, token_from=PAGE),
        auth.post(f"{PAGE}/agencies/{agency_id}/connection", {**data, "username": ""}, token_from=PAGE),
        auth.post(f"{PAGE}/agencies/{agency_id}/test", htmx=True, token_from=PAGE),
        client.get(PAGE),
        client.get(f"{PAGE}/rules/new"),
        client.get("/settings/audit-log"),
        client.get("/settings/audit-log?type=agency", headers={"HX-Request": "true"}),
    ]
    assert "Connected" in responses[3].text
    for response in responses:
        assert ncmec_simulator.password not in response.text
    cli = runner.invoke(args=["ncmec", "rules"])
    assert cli.exit_code == 0 and ncmec_simulator.password not in cli.output
    for event in db.session.scalars(select(AuditEvent)):
        assert ncmec_simulator.password not in str(event.details)


# --- rules ---


def test_admin_adds_a_rule(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    auth.login("admin@example.org")
    form = client.get(f"{PAGE}/rules/new")
    assert form.status_code == 200
    for label in ("Rule name", "Agency", "Policies", "Review queue", "First name", "Last name", "Email"):
        assert f">{label}</" in form.text
    assert "covers: CSAM, Grooming, Sextortion" in form.text

    response = auth.post(f"{PAGE}/rules", rule_data(policies, ai_queue), htmx=True, token_from=PAGE)
    assert response.status_code == 200
    assert "Rule “NCMEC — CSAM auto report” added." in response.text
    assert 'id="rules"' in response.text and "<html" not in response.text
    rule = db.session.scalar(select(ReportingRule))
    assert rule.name == "NCMEC — CSAM auto report" and rule.enabled
    assert [p.slug for p in rule.policies] == ["child-safety"]
    assert rule.review_queue_id == ai_queue.id and rule.contact_email == "rita@example.org"
    assert rules.rule_for(policies["grooming"].id).id == rule.id
    (event,) = events("reporting_rule_created")
    assert event.details["after"]["policies"] == ["Child safety"]


def test_adding_a_rule_without_javascript_redirects_to_the_page(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    auth.login("admin@example.org")
    response = auth.post(f"{PAGE}/rules", rule_data(policies, ai_queue), token_from=PAGE)
    assert response.status_code == 302 and response.headers["Location"].endswith(PAGE)
    page = client.get(PAGE).text
    assert "NCMEC — CSAM auto report" in page and "covers: Child safety, CSAM, Grooming, Sextortion" in page


def test_rule_validation_errors(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    make_rule(policies, ai_queue, name="Taken")
    auth.login("admin@example.org")
    cases = [
        ({"name": "Taken"}, "A rule named “Taken” already exists."),
        ({"name": "taken"}, "already exists"),
        ({"name": ""}, "Enter a rule name."),
        ({"policies": []}, "Choose at least one policy."),
        ({"policies": ["99999"]}, "Choose policies from the list."),
        ({"review_queue": "99999"}, "Choose a review queue that exists."),
        ({"review_queue": ""}, "Choose a review queue that exists."),
        ({"contact_email": "not-an-email"}, "Enter a valid email address."),
        ({"contact_email": "rita@"}, "Enter a valid email address."),
        ({"contact_first_name": ""}, "Enter the contact&#39;s first name."),
        ({"agency": "99999"}, "Choose the agency to report to."),
    ]
    for overrides, message in cases:
        data = rule_data(policies, ai_queue, name="Fresh name")
        data.update(overrides)
        page = auth.post(f"{PAGE}/rules", data, token_from=PAGE)
        assert page.status_code == 422, overrides
        assert message in page.text, (overrides, message)
        fragment = auth.post(f"{PAGE}/rules", data, htmx=True, token_from=PAGE)
        assert fragment.status_code == 200 and message in fragment.text and 'id="rules"' in fragment.text
    assert db.session.scalar(select(db.func.count(ReportingRule.id))) == 1
    assert len(events("reporting_rule_created")) == 1


def test_admin_edits_a_rule(ctx, client, auth):
    _admin, policies, ai_queue, other = admin_world()
    rule = make_rule(policies, ai_queue)
    rule_id = rule.id
    auth.login("admin@example.org")
    form = client.get(f"{PAGE}/rules/{rule_id}/edit", headers={"HX-Request": "true"})
    assert form.status_code == 200 and 'value="NCMEC — CSAM auto report"' in form.text
    assert "<html" not in form.text
    data = rule_data(policies, other, name="Renamed", policies=[str(policies["csam"].id)])
    response = auth.post(f"{PAGE}/rules/{rule_id}", data, htmx=True, token_from=PAGE)
    assert "Rule “Renamed” saved." in response.text
    db.session.expire_all()
    rule = db.session.get(ReportingRule, rule_id)
    assert rule.name == "Renamed" and [p.slug for p in rule.policies] == ["csam"]
    assert rule.review_queue_id == other.id
    (event,) = events("reporting_rule_changed")
    assert event.details["before"]["name"] == "NCMEC — CSAM auto report"
    assert event.details["after"]["policies"] == ["CSAM"]
    # Keeping its own name is not "taken".
    again = auth.post(f"{PAGE}/rules/{rule_id}", data, token_from=PAGE)
    assert again.status_code == 302


def test_editing_to_a_taken_name_is_refused(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    make_rule(policies, ai_queue, name="First")
    second = make_rule(policies, ai_queue, name="Second", policy="spam")
    second_id = second.id
    auth.login("admin@example.org")
    response = auth.post(
        f"{PAGE}/rules/{second_id}", rule_data(policies, ai_queue, name="First"), token_from=PAGE
    )
    assert response.status_code == 422 and "A rule named “First” already exists." in response.text
    db.session.expire_all()
    assert db.session.get(ReportingRule, second_id).name == "Second"


def test_admin_pauses_and_resumes_a_rule_in_place(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    rule_id = make_rule(policies, ai_queue).id
    auth.login("admin@example.org")
    response = auth.post(f"{PAGE}/rules/{rule_id}/enabled", {"enabled": "0"}, htmx=True, token_from=PAGE)
    assert (
        response.status_code == 200 and "paused." in response.text and 'aria-checked="false"' in response.text
    )
    db.session.expire_all()
    assert db.session.get(ReportingRule, rule_id).enabled is False
    # A paused rule fires for nothing new.
    assert rules.rule_for(policies["csam"].id) is None

    response = auth.post(f"{PAGE}/rules/{rule_id}/enabled", {"enabled": "1"}, token_from=PAGE)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ReportingRule, rule_id).enabled is True
    assert [
        e.details["after"] for e in events("reporting_rule_paused") + events("reporting_rule_enabled")
    ] == [
        {"enabled": False},
        {"enabled": True},
    ]
    assert (
        auth.post(f"{PAGE}/rules/{rule_id}/enabled", {"enabled": "maybe"}, token_from=PAGE).status_code == 400
    )


def test_admin_deletes_a_rule_that_never_fired(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    rule_id = make_rule(policies, ai_queue).id
    auth.login("admin@example.org")
    response = auth.post(f"{PAGE}/rules/{rule_id}/delete", htmx=True, token_from=PAGE)
    assert "deleted." in response.text
    assert db.session.get(ReportingRule, rule_id) is None
    (event,) = events("reporting_rule_deleted")
    assert event.details["before"]["name"] == "NCMEC — CSAM auto report"


def test_a_rule_that_produced_reports_cannot_be_deleted(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    rule = make_rule(policies, ai_queue)
    c = factories.case(ai_queue)
    db.session.add(
        ExternalReport(
            agency_id=agencies.ncmec().id,
            case_id=c.id,
            rule_id=rule.id,
            fingerprint="abc",
            incident_type="Child Pornography (possession, manufacture, and distribution)",
            contact_first_name="Rita",
            contact_last_name="Reporter",
            contact_email="rita@example.org",
        )
    )
    db.session.commit()
    rule_id = rule.id
    auth.login("admin@example.org")
    page = client.get(PAGE).text
    assert f'/rules/{rule_id}/delete"' not in page
    response = auth.post(f"{PAGE}/rules/{rule_id}/delete", htmx=True, token_from=PAGE)
    assert "produced 1 report and is kept for them" in response.text
    assert db.session.get(ReportingRule, rule_id) is not None


def test_the_page_shows_reports_and_last_fired(ctx, client, auth):
    from console.timeutil import utcnow

    _admin, policies, ai_queue, _other = admin_world()
    rule = make_rule(policies, ai_queue)
    rule.last_fired_at = utcnow()
    db.session.commit()
    auth.login("admin@example.org")
    page = client.get(PAGE).text
    assert '<td class="num">0</td>' in page and "never" not in page


def test_a_parent_policy_covers_a_sub_policy_created_after_the_rule(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    rule = make_rule(policies, ai_queue)
    rule_id = rule.id
    new_sub = Policy(slug="live-streaming", name="Live-streamed abuse", parent=policies["child-safety"])
    db.session.add(new_sub)
    db.session.commit()
    assert rules.rule_for(new_sub.id).id == rule_id
    auth.login("admin@example.org")
    page = client.get(PAGE).text
    assert "covers: Child safety, CSAM, Grooming, Live-streamed abuse, Sextortion" in page
    assert "covers: CSAM, Grooming, Live-streamed abuse, Sextortion" in client.get(f"{PAGE}/rules/new").text


def test_two_enabled_rules_on_one_policy_show_a_conflict(ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    make_rule(policies, ai_queue, name="Child safety rule")
    make_rule(policies, ai_queue, name="CSAM rule", policy="csam")
    auth.login("admin@example.org")
    page = client.get(PAGE).text
    assert "Conflict:" in page
    assert "policy “CSAM” is covered by 2 enabled rules: “Child safety rule”, “CSAM rule”" in page
    assert "Until you fix it, “CSAM rule” is used" in page
    assert "policy “Grooming”" not in page

    rule_id = db.session.scalar(select(ReportingRule.id).where(ReportingRule.name == "CSAM rule"))
    response = auth.post(f"{PAGE}/rules/{rule_id}/enabled", {"enabled": "0"}, htmx=True, token_from=PAGE)
    assert "Conflict:" not in response.text


# --- who may ---


def test_moderators_get_403_on_every_settings_url(app, ctx, client, auth):
    _admin, policies, ai_queue, _other = admin_world()
    rule_id = make_rule(policies, ai_queue).id
    agency_id = agencies.ncmec().id
    factories.user("moderator", email="mod@example.org")
    auth.login("mod@example.org")
    token = auth.token("/queues")
    checked = 0
    for url_rule in app.url_map.iter_rules():
        if not url_rule.endpoint.startswith("settings."):
            continue
        url = url_rule.rule.replace("<int:rule_id>", str(rule_id)).replace("<int:agency_id>", str(agency_id))
        url = re.sub(r"<int:\w+>", "1", url)  # any other id: refused before it is looked up
        for method in url_rule.methods & {"GET", "POST"}:
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": token, "enabled": "0"})
            assert response.status_code == 403, (method, url, response.status_code)
            checked += 1
    assert checked >= 11
    db.session.expire_all()
    assert db.session.get(ReportingRule, rule_id).enabled is True


def test_admin_sets_a_rules_gathering_window(ctx, client, auth):
    """One report per incident for the automatic flow: off by default, a number of minutes when set."""
    _admin, policies, ai_queue, _other = admin_world()
    auth.login("admin@example.org")
    form = client.get(f"{PAGE}/rules/new").text
    assert "Gather one user&#39;s AI-confirmed contents for (minutes)" in form
    refused = auth.post(
        f"{PAGE}/rules", rule_data(policies, ai_queue, bundle_window_minutes="0"), token_from=PAGE
    )
    assert refused.status_code == 422 and "Enter 1 to 1440 minutes." in refused.text
    auth.post(f"{PAGE}/rules", rule_data(policies, ai_queue), token_from=PAGE)
    rule = db.session.scalar(select(ReportingRule))
    assert rule.bundle_window_minutes is None  # off unless an admin sets it
    rule_id = rule.id
    auth.post(
        f"{PAGE}/rules/{rule_id}", rule_data(policies, ai_queue, bundle_window_minutes="15"), token_from=PAGE
    )
    db.session.expire_all()
    assert db.session.get(ReportingRule, rule_id).bundle_window_minutes == 15
    assert 'value="15"' in client.get(f"{PAGE}/rules/{rule_id}/edit").text
    (event,) = events("reporting_rule_changed")
    assert event.details["after"]["bundle_window_minutes"] == 15
