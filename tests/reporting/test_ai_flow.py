"""The AI-moderated flow end to end: an upstream detection is posted to the API, lands in the rule's review
queue, a moderator confirms it, and a real RQ worker files the report automatically — or nothing is sent."""

import io
import json

from rq import SimpleWorker

import jobs
from console import tasks
from console.api import tokens
from console.extensions import db
from console.reporting.models import ExternalReport
from tests import factories
from tests.reporting.helpers import reporting_setup


def run_worker(app):
    db.session.commit()  # SQLite: the worker's writes need the lock this session would hold
    jobs.use_app(app)
    SimpleWorker([tasks.task_queue()], connection=tasks.redis_connection()).work(burst=True)
    db.session.expire_all()


def post_detection(client, token, content_id="post-1", images=1, status=201):
    """An upstream detector posts a case; 200 (not 201) answers a content id seen before with its case."""
    case = {
        "content_id": content_id,
        "reported_at": "2026-11-20T08:00:00Z",
        "source_kind": "proactive",
        "content_url": f"https://platform.example/p/{content_id}",
        "reported_user": {"platform_id": "u-77", "name": "Sam Uploader", "email": "sam@platform.example"},
        "ai_decision": {"policy": "csam", "confidence": 0.98, "model": "hash-matcher-v2"},
    }
    data = {"case": json.dumps(case)}
    data["media"] = [
        (io.BytesIO(factories.png_bytes(900 + i)), f"f{i}.png", "image/png") for i in range(images)
    ]
    response = client.post(
        "/api/v1/cases",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == status, response.json
    return response.json


def test_detection_confirmed_in_the_review_queue_is_filed_automatically(
    app, ctx, client, auth, ncmec_simulator
):
    policies, review, rule = reporting_setup(ncmec_simulator)
    factories.queue("Proactive", "proactive")
    factories.user("moderator", email="mod@example.org")
    _token, raw = tokens.create_token("scanner")
    db.session.commit()

    posted = post_detection(client, raw)
    assert posted["queue"] == review.slug
    case_id = posted["case_id"]
    auth.login("mod@example.org")
    html = client.get(f"/queues/{review.id}").text
    assert f"#{case_id}" in html and "AI" in html

    response = auth.post(
        f"/cases/{case_id}/decision",
        {"verdict": "violation", "policy": policies["csam"].id},
        htmx=True,
        token_from=f"/cases/{case_id}",
    )
    assert response.status_code == 200
    assert "open-dialog" not in response.headers.get("HX-Trigger-After-Settle", "")  # no dialog: automatic
    report = db.session.scalar(db.select(ExternalReport).where(ExternalReport.case_id == case_id))
    assert report.triggered_by == "ai" and report.state == "queued"

    run_worker(app)
    report = db.session.get(ExternalReport, report.id)
    assert report.state == "finished", report.last_error
    received = ncmec_simulator.report(report.ncmec_report_id)
    assert received["state"] == "finished"
    assert received["incident_type"] == policies["csam"].ncmec_incident_type
    assert "rita@example.org" in received["xml"] and "Rita" in received["xml"]
    assert "https://platform.example/p/post-1" in received["xml"] and "u-77" in received["xml"]
    assert "2026-11-20T08:00:00" in received["xml"]
    assert [f["file_viewed_by_esp"] for f in received["files"]] == [False]  # nobody revealed it
    assert report.ncmec_report_id in client.get(f"/cases/{case_id}").text  # the receipt on the case


def test_no_violation_in_the_review_queue_sends_nothing(app, ctx, client, auth, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="mod@example.org")
    _token, raw = tokens.create_token("scanner")
    db.session.commit()
    case_id = post_detection(client, raw, "post-2")["case_id"]
    auth.login("mod@example.org")
    auth.post(f"/cases/{case_id}/decision", {"verdict": "no_violation"}, token_from=f"/cases/{case_id}")
    run_worker(app)
    assert db.session.scalar(db.select(db.func.count()).select_from(ExternalReport)) == 0
    assert ncmec_simulator.reports() == []


def test_a_paused_rule_fires_for_nothing_new(app, ctx, client, auth, ncmec_simulator):
    policies, review, rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="mod@example.org")
    _token, raw = tokens.create_token("scanner")
    db.session.commit()
    case_id = post_detection(client, raw, "post-3")["case_id"]  # routed while the rule was enabled
    rule.enabled = False
    db.session.commit()
    auth.login("mod@example.org")
    auth.post(
        f"/cases/{case_id}/decision",
        {"verdict": "violation", "policy": policies["csam"].id},
        token_from=f"/cases/{case_id}",
    )
    run_worker(app)
    assert ncmec_simulator.reports() == []
    assert db.session.scalar(db.select(db.func.count()).select_from(ExternalReport)) == 0


def test_the_same_media_in_a_repost_is_reported_again_and_the_same_post_once(
    app, ctx, client, auth, ncmec_simulator
):
    policies, review, rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="mod@example.org")
    _token, raw = tokens.create_token("scanner")
    db.session.commit()
    auth.login("mod@example.org")
    # The same image bytes every time; "post-4" arrives twice (a second detection of the same post).
    for content_id, status in (("post-4", 201), ("post-4-repost", 201), ("post-4", 200)):
        case_id = post_detection(client, raw, content_id, status=status)["case_id"]
        auth.post(
            f"/cases/{case_id}/decision",
            {"verdict": "violation", "policy": policies["csam"].id},
            token_from=f"/cases/{case_id}",
        )
        run_worker(app)
    # One report per post: the repost is another item on the platform, the second detection is not.
    assert len(ncmec_simulator.reports("finished")) == 2
    assert db.session.scalar(db.select(db.func.count()).select_from(ExternalReport)) == 2
