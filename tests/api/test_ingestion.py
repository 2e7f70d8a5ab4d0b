"""Upstream systems post cases: JSON or multipart, validated field by field, opened exactly once."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from console.api import tokens
from console.audit import AuditEvent
from console.cases.models import Case, ReportedUser
from console.extensions import db
from console.media.models import MediaFile
from console.reporting import agencies
from console.reporting.models import ReportingRule
from tests import factories

REPORTED_AT = "2024-05-01T13:45:00+02:00"


@pytest.fixture
def api(ctx, client):
    """A token, a policy tree and the usual queues; `api.post(body)` posts JSON as the upstream system."""

    class Api:
        policies = factories.policy_tree()
        user_reports = factories.queue("User reports", "user_report")
        ai_review = factories.queue("AI review", "ai_review")
        token, raw = tokens.create_token("upload-scanner")
        headers = {"Authorization": f"Bearer {raw}"}

        def post(self, body, **kwargs):
            return client.post("/api/v1/cases", json=body, headers=self.headers, **kwargs)

        def post_multipart(self, body, files):
            data = {"case": json.dumps(body) if not isinstance(body, str) else body}
            data["media"] = [(io.BytesIO(content), name, mime) for name, content, mime in files]
            return client.post(
                "/api/v1/cases", data=data, headers=self.headers, content_type="multipart/form-data"
            )

    return Api()


def body(**overrides):
    out = {
        "content_id": "post-1001",
        "text": "hello, are you home alone?",
        "content_url": "https://platform.example/p/1001",
        "reported_user": {
            "platform_id": "acct-77",
            "name": "Sam Example",
            "email": "sam@platform.example",
            "screen_name": "sammy",
            "profile_url": "https://platform.example/u/sammy",
            "ip_events": [{"ip": "203.0.113.9", "at": "2024-05-01T12:00:00Z", "event": "Login"}],
        },
        "reported_at": REPORTED_AT,
        "source_kind": "user_report",
    }
    out.update(overrides)
    return out


def enable_rule(review_queue, *policies, enabled=True) -> ReportingRule:
    rule = ReportingRule(
        name=f"NCMEC — {policies[0].name}",
        agency=agencies.ncmec(),
        review_queue_id=review_queue.id,
        contact_first_name="Rita",
        contact_last_name="Reporter",
        contact_email="rita@platform.example",
        enabled=enabled,
        policies=list(policies),
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(model.id)))


def media_files_on_disk(app) -> list[Path]:
    root = Path(app.config["MEDIA_ROOT"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_json_case_lands_in_the_source_kinds_queue(api):
    response = api.post(body())
    assert response.status_code == 201
    assert response.json["created"] is True and response.json["queue"] == api.user_reports.slug
    case = db.session.get(Case, response.json["case_id"])
    assert (
        response.json["url"].endswith(f"/cases/{case.id}")
        and response.headers["Location"] == response.json["url"]
    )
    assert case.content_id == "post-1001" and case.status == "open" and case.source_kind == "user_report"
    assert case.text.startswith("hello") and case.content_url == "https://platform.example/p/1001"
    assert case.reported_at.isoformat() == "2024-05-01T11:45:00+00:00"
    assert case.ai_detected is False and case.queue_id == api.user_reports.id
    user = case.reported_user
    assert (user.platform_id, user.name, user.email, user.screen_name) == (
        "acct-77",
        "Sam Example",
        "sam@platform.example",
        "sammy",
    )
    assert user.ip_events == [{"ip": "203.0.113.9", "at": "2024-05-01T12:00:00+00:00", "event": "Login"}]
    assert db.session.get(type(api.user_reports), api.user_reports.id).open_cases == 1
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)).all()
    assert {e.action for e in events} == {"case_opened", "case_ingested"}
    assert {e.actor_label for e in events} == {"api:upload-scanner"}


def test_explicit_queue_and_alleged_policy(api):
    other = factories.queue("Trusted flagger", "trusted_flagger")
    response = api.post(body(queue=other.slug, policy="grooming", source_kind="trusted_flagger"))
    assert response.status_code == 201 and response.json["queue"] == other.slug
    case = db.session.get(Case, response.json["case_id"])
    assert case.reported_policy.slug == "grooming" and case.policy.slug == "grooming"


def test_multipart_with_two_pngs_stores_media_with_hashes(api, app):
    import hashlib

    first, second = factories.png_bytes(1), factories.png_bytes(2)
    response = api.post_multipart(
        body(text="", content_url=""),
        [("a.png", first, "image/png"), ("b.png", second, "application/octet-stream")],
    )
    assert response.status_code == 201, response.json
    case = db.session.get(Case, response.json["case_id"])
    assert [m.original_name for m in case.media] == ["a.png", "b.png"]
    for media, content in zip(case.media, (first, second), strict=True):
        assert media.sha256 == hashlib.sha256(content).hexdigest()
        assert media.md5 == hashlib.md5(content).hexdigest()  # noqa: S324 (NCMEC's file hash)
        assert media.kind == "image" and media.mime_type == "image/png" and media.size == len(content)
    assert len(media_files_on_disk(app)) == 4  # two files, two previews


def test_every_bad_field_is_named(api):
    response = api.post(
        {
            "text": 42,
            "content_url": "javascript:alert(1)",
            "reported_user": {
                "name": "x",
                "email": "nope",
                "ip_events": [{"ip": "999.1.1.1", "at": "yesterday"}],
            },
            "reported_at": "2024-05-01T13:45:00",
            "source_kind": "rumour",
            "queue": "no-such-queue",
            "policy": "no-such-policy",
            "ai_decision": {"policy": "csam", "confidence": 1.5, "model": "m"},
            "surprise": True,
        }
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert set(errors) == {
        "content_id",
        "text",
        "content_url",
        "reported_user.platform_id",
        "reported_user.email",
        "reported_user.ip_events[0].ip",
        "reported_user.ip_events[0].at",
        "reported_at",
        "source_kind",
        "queue",
        "policy",
        "ai_decision.confidence",
        "surprise",
    }
    assert errors["content_id"] == "is required"
    assert "UTC offset" in errors["reported_at"]
    assert "user_report" in errors["source_kind"]
    assert "no-such-policy" in errors["policy"]
    assert "between 0 and 1" in errors["ai_decision.confidence"]
    assert count(Case) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"content_id": ""}, "content_id"),
        ({"reported_at": "2024-05-01T13:45:00"}, "reported_at"),
        ({"reported_at": None}, "reported_at"),
        ({"reported_at": "2999-01-01T00:00:00+00:00"}, "reported_at"),
        ({"source_kind": "rumour"}, "source_kind"),
        ({"policy": "unknown"}, "policy"),
        ({"ai_decision": {"policy": "unknown"}}, "ai_decision.policy"),
        ({"ai_decision": {"policy": "csam", "confidence": -0.1}}, "ai_decision.confidence"),
        ({"ai_decision": {"policy": "csam", "confidence": True}}, "ai_decision.confidence"),
        ({"ai_decision": {"confidence": 0.5}}, "ai_decision.policy"),
        ({"text": "", "content_url": ""}, "content"),
        ({"text": "  \n ", "content_url": ""}, "content"),
        ({"reported_user": None}, "reported_user.platform_id"),
    ],
)
def test_each_validation_error_is_named(api, overrides, field):
    response = api.post(body(**overrides))
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field]


def _user(**fields) -> dict:
    return {"platform_id": "acct-77", **fields}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        # NCMEC's documented limits, refused at entry rather than when the report is sent.
        ({"reported_user": _user(name="N" * 101)}, "reported_user.name", "at most 100"),
        ({"reported_user": _user(screen_name="S" * 101)}, "reported_user.screen_name", "at most 100"),
        ({"content_url": "https://platform.example/p/a b"}, "content_url", "whitespace"),
        ({"content_url": "https://platform.example/" + "p" * 2000}, "content_url", "at most 2000"),
        (
            {"reported_user": _user(profile_url="https://x.example/\u0085u")},
            "reported_user.profile_url",
            "whitespace",
        ),
        ({"reported_at": "1969-12-31T23:59:59Z"}, "reported_at", "before 1970"),
        ({"reported_at": "2999-01-01T00:00:00Z"}, "reported_at", "in the future"),
        (
            {"reported_user": _user(ip_events=[{"ip": "203.0.113.9/24"}])},
            "reported_user.ip_events[0].ip",
            "IPv4",
        ),
        (
            {"reported_user": _user(ip_events=[{"ip": "1.2.3.4", "port": 65536}])},
            "reported_user.ip_events[0].port",
            "0 to 65535",
        ),
        (
            {"reported_user": _user(ip_events=[{"ip": "1.2.3.4", "port": "443"}])},
            "reported_user.ip_events[0].port",
            "integer",
        ),
        (
            {"reported_user": _user(ip_events=[{"ip": "1.2.3.4", "port": True}])},
            "reported_user.ip_events[0].port",
            "integer",
        ),
    ],
)
def test_ncmec_field_rules_are_checked_at_entry(api, overrides, field, message):
    response = api.post(body(**overrides))
    assert response.status_code == 422
    assert list(response.json["errors"]) == [field] and message in response.json["errors"][field]
    assert count(Case) == 0


def test_a_few_minutes_of_clock_skew_are_allowed(api):
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC) + timedelta(minutes=4)).isoformat()
    assert api.post(body(reported_at=soon)).status_code == 201


def test_ip_events_keep_the_port_and_the_platforms_own_event_name(api):
    events = [
        {"ip": "203.0.113.9", "port": 51234, "at": "2024-05-01T12:00:00Z", "event": "session_refresh"},
        {"ip": "2001:DB8::1", "port": 0},
    ]
    response = api.post(body(reported_user=_user(ip_events=events)))
    assert response.status_code == 201, response.json
    user = db.session.get(Case, response.json["case_id"]).reported_user
    assert user.ip_events == [
        {"ip": "203.0.113.9", "at": "2024-05-01T12:00:00+00:00", "event": "session_refresh", "port": 51234},
        {"ip": "2001:db8::1", "port": 0},
    ]


def test_media_file_names_up_to_ncmecs_limit_are_kept_whole(api):
    long_name = "n" * 2052 + ".png"
    ok = api.post_multipart(body(), [(long_name, factories.png_bytes(1), "image/png")])
    assert ok.status_code == 201, ok.json
    assert db.session.get(Case, ok.json["case_id"]).media[0].original_name == long_name
    too_long = api.post_multipart(
        body(content_id="post-1002"), [("n" * 2053 + ".png", factories.png_bytes(2), "image/png")]
    )
    assert too_long.status_code == 422 and "2056" in too_long.json["errors"]["media[0]"]


def test_bad_json_is_422(api, client):
    response = client.post(
        "/api/v1/cases", data="{not json", content_type="application/json", headers=api.headers
    )
    assert response.status_code == 422 and "not valid JSON" in response.json["errors"]["body"]
    not_object = api.post(["a list"])
    assert not_object.status_code == 422 and not_object.json["errors"] == {"body": "expected a JSON object"}
    in_multipart = api.post_multipart("{broken", [("a.png", factories.png_bytes(), "image/png")])
    assert in_multipart.status_code == 422 and "not valid JSON" in in_multipart.json["errors"]["case"]
    wrong_type = client.post("/api/v1/cases", data="x=1", content_type="text/plain", headers=api.headers)
    assert wrong_type.status_code == 415 and "body" in wrong_type.json["errors"]


def test_no_queue_for_the_source_kind_is_named(api):
    response = api.post(body(source_kind="lea_request"))
    assert response.status_code == 422 and "lea_request" in response.json["errors"]["queue"]


def test_repeated_content_id_returns_the_existing_case(api):
    first = api.post(body())
    again = api.post(body(text="a different text for the same content"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["case_id"] == first.json["case_id"] and again.json["created"] is False
    assert count(Case) == 1
    assert db.session.get(Case, first.json["case_id"]).text.startswith("hello")


def test_reported_user_is_reused_and_ip_events_merge(api):
    api.post(body())
    events = [
        {
            "ip": "203.0.113.9",
            "at": "2024-05-01T14:00:00+02:00",
            "event": "Login",
        },  # same moment, other offset
        {"ip": "2001:db8::1", "at": "2024-05-02T08:00:00Z", "event": "Upload"},
    ]
    user = dict(body()["reported_user"], ip_events=events)
    assert api.post(body(content_id="post-1002", reported_user=user)).status_code == 201
    assert count(ReportedUser) == 1
    merged = db.session.scalar(select(ReportedUser)).ip_events
    assert [e["ip"] for e in merged] == ["203.0.113.9", "2001:db8::1"]


def test_concurrent_double_post_opens_one_case(api, app):
    db.session.commit()  # SQLite: no transaction of ours may hold the write lock while the threads write
    results, barrier = [], threading.Barrier(2)

    def post():
        client = app.test_client()
        barrier.wait()
        results.append(client.post("/api/v1/cases", json=body(), headers=api.headers))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.status_code for r in results) == [200, 201]
    assert len({r.json["case_id"] for r in results}) == 1
    assert count(Case) == 1 and count(ReportedUser) == 1
    assert db.session.get(type(api.user_reports), api.user_reports.id).open_cases == 1


def test_broken_image_leaves_no_case_and_no_file(api, app):
    response = api.post_multipart(
        body(),
        [
            ("good.png", factories.png_bytes(3), "image/png"),
            ("broken.png", b"\x89PNG\r\n\x1a\nnot really", "image/png"),
        ],
    )
    assert response.status_code == 422
    assert (
        list(response.json["errors"]) == ["media[1]"] and "broken.png" in response.json["errors"]["media[1]"]
    )
    assert count(Case) == 0 and count(MediaFile) == 0 and count(ReportedUser) == 0
    assert media_files_on_disk(app) == []
    assert db.session.get(type(api.user_reports), api.user_reports.id).open_cases == 0
    # The sender fixes the file and posts again: the content id is free.
    retry = api.post_multipart(body(), [("good.png", factories.png_bytes(3), "image/png")])
    assert retry.status_code == 201


def test_unaccepted_media_type_is_named(api, app):
    response = api.post_multipart(body(), [("notes.pdf", b"%PDF-1.4", "application/pdf")])
    assert response.status_code == 422 and "notes.pdf" in response.json["errors"]["media[0]"]
    assert count(Case) == 0 and media_files_on_disk(app) == []


def test_oversize_upload_is_413_and_nothing_is_stored(api, app):
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    big = factories.png_bytes(4, size=(400, 400))
    big += b"\0" * max(0, 25_000 - len(big))
    response = api.post_multipart(body(), [("big.png", big, "image/png")])
    assert response.status_code == 413
    assert "larger than" in response.json["errors"]["body"]
    assert count(Case) == 0 and media_files_on_disk(app) == []


def test_ai_decision_covered_by_an_enabled_rule_goes_to_the_rules_review_queue(api):
    child_safety = api.policies["child-safety"]
    enable_rule(api.ai_review, child_safety)
    ai = {"policy": "csam", "confidence": 0.98, "model": "csam-classifier-v3"}
    # The rule's review queue wins over the queue the sender named.
    response = api.post(body(queue=api.user_reports.slug, ai_decision=ai))
    assert response.status_code == 201 and response.json["queue"] == api.ai_review.slug
    case = db.session.get(Case, response.json["case_id"])
    assert case.ai_detected is True and case.ai_policy.slug == "csam"
    assert case.ai_confidence == pytest.approx(0.98) and case.ai_model == "csam-classifier-v3"
    assert case.status == "open" and case.decisions == []  # a person confirms; nothing is filed yet
    ingested = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case_ingested"))
    assert ingested.details["routed_by_rule"] == "NCMEC — Child safety"


def test_ai_decision_with_the_rule_disabled_follows_the_normal_queues(api):
    enable_rule(api.ai_review, api.policies["csam"], enabled=False)
    response = api.post(body(ai_decision={"policy": "csam", "confidence": 0.9, "model": "m"}))
    assert response.status_code == 201 and response.json["queue"] == api.user_reports.slug
    case = db.session.get(Case, response.json["case_id"])
    assert case.ai_detected is True and case.ai_policy.slug == "csam"


def test_ai_decision_on_an_uncovered_policy_follows_the_normal_queues(api):
    enable_rule(api.ai_review, api.policies["child-safety"])
    response = api.post(body(ai_decision={"policy": "spam", "confidence": 0.7}))
    assert response.status_code == 201 and response.json["queue"] == api.user_reports.slug


def test_media_in_a_json_body_is_refused(api):
    response = api.post(body(media=["base64..."]))
    assert response.status_code == 422 and "multipart" in response.json["errors"]["media"]


def test_a_content_id_seen_before_is_refused_by_the_unique_index(api, monkeypatch):
    """No lookup before the insert: the unique index refuses a content id seen before (an upstream retry, or a
    case committed a moment earlier by another request), the whole transaction is rolled back — no reported
    user, counter or audit event of its own remains — and the answer is the existing case."""
    from console.api import ingestion

    winner = factories.case(api.user_reports, content_id="post-1001")
    real_find, calls = ingestion.find_case, []

    def find(content_id):
        calls.append(content_id)
        return real_find(content_id)

    monkeypatch.setattr(ingestion, "find_case", find)
    db.session.commit()
    users, events = count(ReportedUser), count(AuditEvent)
    open_before = db.session.get(type(api.user_reports), api.user_reports.id).open_cases
    response = api.post(body(reported_user={"platform_id": "someone-new", "name": "Not Kept"}))
    assert response.status_code == 200 and response.json == {
        "case_id": winner.id,
        "created": False,
        "queue": api.user_reports.slug,
        "url": f"http://localhost/cases/{winner.id}",
    }
    assert calls == ["post-1001"]  # once, after the refusal
    assert count(Case) == 1 and count(ReportedUser) == users and count(AuditEvent) == events
    assert db.session.get(type(api.user_reports), api.user_reports.id).open_cases == open_before


def test_a_new_case_is_inserted_once_and_not_read_back(api, app):
    """The statements of one ingestion: the case row is written by its INSERT alone (no UPDATE of the new row
    for details the request did not give) and the answer needs no query of the case after the commit."""
    from sqlalchemy import event

    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()).upper())

    db.session.commit()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = api.post(body())
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 201 and response.json["queue"] == api.user_reports.slug
    touching_cases = [s for s in statements if " CASES " in f" {s} " or s.startswith("UPDATE CASES")]
    assert [s.split(" (")[0] for s in touching_cases] == ["INSERT INTO CASES"], statements
    case = db.session.get(Case, response.json["case_id"])
    assert case.content_kind is None and case.thread is None and case.platform_content_type == ""
