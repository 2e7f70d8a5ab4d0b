"""Hostile values at every entry point get a 404 or 422 naming the problem, never a 500; nothing is stored."""

from __future__ import annotations

import base64
import io
import json

import pytest
from sqlalchemy import func, select

from console.api import tokens
from console.audit import AuditEvent
from console.cases.models import Case, Decision
from console.extensions import db
from console.media.models import MediaFile
from console.reporting.models import ReportingRule
from tests import factories
from tests.settings.helpers import PAGE, admin_world, rule_data

HUGE = "99999999999999999999999"


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def api(ctx, client):
    factories.policy_tree()
    factories.queue("User reports", "user_report")
    _token, raw = tokens.create_token("scanner")

    class Api:
        headers = {"Authorization": f"Bearer {raw}"}

        def post(self, case, files=()):
            if files:
                data = {
                    "case": json.dumps(case),
                    "media": [(io.BytesIO(c), name, mime) for name, c, mime in files],
                }
                return client.post(
                    "/api/v1/cases", data=data, headers=self.headers, content_type="multipart/form-data"
                )
            return client.post(
                "/api/v1/cases",
                data=case if isinstance(case, str | bytes) else json.dumps(case),
                headers=self.headers,
                content_type="application/json",
            )

    return Api()


def case_body(**overrides) -> dict:
    body = {
        "content_id": "post-1",
        "text": "hello",
        "reported_at": "2024-05-01T13:45:00+02:00",
        "source_kind": "user_report",
        "reported_user": {"platform_id": "acct-1", "ip_events": [{"ip": "203.0.113.9"}]},
    }
    body.update(overrides)
    return body


def nothing_stored() -> bool:
    db.session.rollback()
    return db.session.scalar(select(func.count(Case.id))) == 0


# --- the ingestion API --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"text": "evidence\x00"}, "text"),
        ({"content_id": "post\x00-1"}, "content_id"),
        ({"content_url": "https://platform.example/p/\x00"}, "content_url"),
        ({"reported_user": {"platform_id": "acct\x00"}}, "reported_user.platform_id"),
        ({"reported_user": {"platform_id": "a", "name": "Sam\x00"}}, "reported_user.name"),
        (
            {"reported_user": {"platform_id": "a", "ip_events": [{"ip": "1.2.3.4", "event": "L\x00"}]}},
            "reported_user.ip_events[0].event",
        ),
        ({"queue": "q\x00"}, "queue"),
        ({"policy": "csam\x00"}, "policy"),
        ({"ai_decision": {"policy": "csam", "model": "m\x00"}}, "ai_decision.model"),
        ({"content_id": "post\x07-1"}, "content_id"),
        ({"content_id": "post\n-1"}, "content_id"),
        ({"reported_user": {"platform_id": "a", "screen_name": "s\tm"}}, "reported_user.screen_name"),
    ],
)
def test_nul_and_control_characters_are_refused_naming_the_field(api, overrides, field):
    response = api.post(case_body(**overrides))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json
    assert nothing_stored()


def test_multi_line_text_keeps_its_tabs_and_line_breaks(api):
    response = api.post(case_body(text="line one\r\n\tline two\n"))
    assert response.status_code == 201
    assert db.session.get(Case, response.json["case_id"]).text == "line one\r\n\tline two\n"


def test_a_lone_surrogate_is_refused(api):
    raw = json.dumps(case_body(text="PLACEHOLDER")).replace("PLACEHOLDER", "\\ud800 half a character")
    response = api.post(raw)
    assert response.status_code == 422 and "surrogate" in response.json["errors"]["text"]
    assert nothing_stored()


def test_a_nul_in_a_media_file_name_is_refused(api):
    response = api.post(case_body(), files=[("scan\x00.png", factories.png_bytes(1), "image/png")])
    assert response.status_code == 422 and "media[0]" in response.json["errors"]
    assert nothing_stored()
    assert db.session.scalar(select(func.count(MediaFile.id))) == 0


def test_json_nested_100000_deep_is_refused(api):
    response = api.post("[" * 100_000 + "]" * 100_000)
    assert response.status_code == 422 and "nested too deeply" in response.json["errors"]["body"]


@pytest.mark.parametrize(
    "moment, message",
    [
        ("0001-01-01T00:00:00+14:00", "out of range"),  # was a 500: before year 1 in UTC
        ("9999-12-31T23:59:59-14:00", "out of range"),
        ("1969-12-31T23:59:59Z", "before 1970"),
        ("2999-01-01T00:00:00Z", "in the future"),
    ],
)
def test_dates_out_of_range_are_refused(api, moment, message):
    response = api.post(case_body(reported_at=moment))
    assert response.status_code == 422 and message in response.json["errors"]["reported_at"]
    event = {"ip": "203.0.113.9", "at": moment}
    response = api.post(case_body(reported_user={"platform_id": "a", "ip_events": [event]}))
    assert message in response.json["errors"]["reported_user.ip_events[0].at"]


def test_huge_numbers_in_the_body_are_refused(api):
    events = [{"ip": "203.0.113.9", "port": int(HUGE)}]
    response = api.post(case_body(reported_user={"platform_id": "a", "ip_events": events}))
    assert response.status_code == 422 and "port" in json.dumps(response.json["errors"])
    response = api.post('{"content_id": ' + "9" * 5000 + "}")
    assert response.status_code == 422 and "not valid JSON" in response.json["errors"]["body"]


def test_echoed_values_are_bounded(api):
    response = api.post(case_body(queue="q" * 250, **{"x" * 100_000: 1}))
    assert response.status_code == 422
    assert len(response.get_data()) < 2_000


def test_every_api_error_is_json(api, app, client, monkeypatch):
    for response in (
        client.get("/api/v1/no-such-thing"),
        client.get("/api/v1/cases", headers=api.headers),
        client.post(f"/api/v1/cases/{HUGE}", headers=api.headers),
    ):
        assert response.status_code in (404, 405) and response.is_json and "errors" in response.json

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("console.api.ingestion.ingest_case", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = api.post(case_body())
    assert response.status_code == 500 and response.is_json and "errors" in response.json


def test_too_many_form_parts_says_so(api, client):
    data = {"case": json.dumps(case_body()), **{f"f{i}": "x" for i in range(1200)}}
    response = client.post(
        "/api/v1/cases", data=data, headers=api.headers, content_type="multipart/form-data"
    )
    assert response.status_code == 413 and "more than 1000 parts" in response.json["errors"]["body"]


# --- the pages ----------------------------------------------------------------------------------------------


def test_huge_ids_cursors_and_filters_are_404_or_ignored(ctx, client, auth):
    admin_world()
    queue = factories.queue()
    auth.login("admin@example.org")
    for url in (
        f"/cases/{HUGE}",
        f"/queues/{HUGE}",
        f"/reports/{HUGE}",
        f"/settings/external-reporting/rules/{HUGE}/edit",
        f"/queues/{queue.id}?after={cursor('2024-05-01T00:00:00+00:00|' + HUGE)}",
        f"/queues/{queue.id}?after={cursor('0001-01-01T00:00:00+14:00|1')}",
        f"/queues/{queue.id}?policy={HUGE}",
        f"/reports?after={HUGE}",
        f"/settings/audit-log?before={HUGE}",
        f"/settings/audit-log?before=-{HUGE}",
    ):
        response = client.get(url)
        assert response.status_code in (200, 404), (url, response.status_code)


def test_a_nul_in_a_form_field_is_a_422_naming_the_field(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    case = factories.case(factories.queue())
    auth.login("m@example.org")
    response = auth.post(f"/cases/{case.id}/decision", {"verdict": "no_violation", "note": "fine\x00"})
    assert response.status_code == 422 and "note" in response.text and "NUL" in response.text
    assert db.session.scalar(select(func.count(Decision.id))) == 0


def test_control_characters_in_settings_forms_are_refused(ctx, client, auth):
    _admin, tree, ai_queue, _other = admin_world()
    auth.login("admin@example.org")
    # A tab or line break in a one-line field: an error on the field, in the form.
    response = auth.post(
        f"{PAGE}/rules", rule_data(tree, ai_queue, contact_first_name="Ri\tta"), token_from=PAGE
    )
    assert response.status_code == 422 and "must be a single line" in response.text
    # Any other control character, in any form: refused before the view, naming the field.
    response = auth.post(f"{PAGE}/rules", rule_data(tree, ai_queue, name="Rule\x1b[31m"), token_from=PAGE)
    assert response.status_code == 422 and "name" in response.text and "U+001B" in response.text
    assert db.session.scalar(select(func.count(ReportingRule.id))) == 0


def test_ncmec_name_limits_are_checked_in_the_rule_form(ctx, client, auth):
    _admin, tree, ai_queue, _other = admin_world()
    auth.login("admin@example.org")
    response = auth.post(
        f"{PAGE}/rules", rule_data(tree, ai_queue, contact_last_name="R" * 101), token_from=PAGE
    )
    assert response.status_code == 422 and "100 characters" in response.text


def test_the_api_token_name_refuses_control_characters(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    response = auth.post("/settings/api-tokens/", {"name": "scanner\x1b"}, token_from="/settings/api-tokens/")
    assert response.status_code == 422
    response = auth.post("/settings/api-tokens/", {"name": "scan\tner"}, token_from="/settings/api-tokens/")
    assert response.status_code == 422 and "must be a single line" in response.text
    assert (
        db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "api_token_created"))
        == 0
    )
