"""What an on-call engineer asks: alive, ready (naming what is down), the numbers, and the filing clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from console.extensions import db
from console.reporting.models import ExternalReport
from console.timeutil import utcnow
from tests import factories


def metrics(client, **headers) -> dict:
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200, response.text
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def make_report(case, *, state: str, age: timedelta, finished_after: timedelta | None = None, kind: str = ""):
    now = utcnow()
    created = now - age
    report = ExternalReport(
        agency_id=1,
        case_id=case.id,
        fingerprint=f"fp-{case.id}-{state}-{age.total_seconds()}",
        live=True,
        state=state,
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        contact_first_name="A",
        contact_last_name="B",
        contact_email="a@example.org",
        payload={},
        created_at=created,
        updated_at=created,
        finished_at=created + finished_after if finished_after else None,
        error_kind=kind,
    )
    db.session.add(report)
    db.session.commit()
    return report


def test_healthz_is_unauthenticated_and_says_ok(ctx, client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


METRICS_TOKEN = "scrape-token-0123456789"


def readyz(app, client, **kwargs):
    """/readyz as the monitoring that holds the metrics token reads it."""
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    return client.get("/readyz", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, **kwargs)


def test_readyz_tells_an_anonymous_caller_only_whether_it_is_ready(ctx, app, client, auth):
    """The sweep found NCMEC's status and the worker count open to anyone: now the details need the metrics
    token or a signed-in admin; a load balancer still gets its status code."""
    app.config["METRICS_TOKEN"] = METRICS_TOKEN
    anonymous = client.get("/readyz", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert anonymous.status_code == 503 and anonymous.json == {"ready": False}
    wrong = client.get("/readyz", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.json == {"ready": False}

    assert set(readyz(app, client).json["checks"]) == {"database", "redis", "workers", "ncmec", "storage"}

    factories.user("moderator", email="m@example.org")
    auth.login("m@example.org")
    assert client.get("/readyz").json == {"ready": False}
    auth.post("/logout")
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    assert "ncmec" in client.get("/readyz").json["checks"]


def test_readyz_names_each_dependency(ctx, app, client):
    body = readyz(app, client).json
    assert set(body["checks"]) == {"database", "redis", "workers", "ncmec", "storage"}
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    # No worker runs in this test: not ready, and it says why.
    assert body["ready"] is False
    assert body["checks"]["workers"] == {
        "ok": False,
        "required": True,
        "detail": "no worker is running: confirmed reports will not be filed",
    }
    assert body["checks"]["ncmec"]["required"] is False


def test_readyz_with_a_worker_and_each_dependency_down(ctx, client, app, monkeypatch):
    from rq import Worker

    from console import tasks

    worker = Worker([tasks.task_queue()], connection=tasks.redis_connection())
    worker.register_birth()
    try:
        response = readyz(app, client)
        assert response.status_code == 200 and response.json["ready"] is True
        assert response.json["checks"]["workers"]["detail"] == "1 running"
    finally:
        worker.register_death()

    # Redis down: not ready, naming Redis (and workers unknown), never a 500.
    import redis as redis_lib

    broken = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setitem(app.extensions, "console_redis", broken)
    response = readyz(app, client)
    assert response.status_code == 503
    checks = response.json["checks"]
    assert not checks["redis"]["ok"] and "not answering" in checks["redis"]["detail"]
    assert not checks["workers"]["ok"]
    monkeypatch.undo()

    # The database down.
    from console.ops import checks as ops_checks

    def broken_database():
        raise RuntimeError("connection refused")

    monkeypatch.setattr(ops_checks.db.session, "execute", lambda *a, **k: broken_database())
    response = readyz(app, client)
    assert response.status_code == 503
    assert response.json["checks"]["database"] == {
        "ok": False,
        "required": True,
        "detail": "not answering (RuntimeError)",
    }


def test_metrics_count_reports_latency_queues_and_the_clock(ctx, client):
    q = factories.queue("User reports", "user_report")
    cases = [factories.case(q) for _ in range(4)]
    make_report(cases[0], state="finished", age=timedelta(hours=2), finished_after=timedelta(seconds=4))
    make_report(cases[1], state="finished", age=timedelta(hours=1), finished_after=timedelta(seconds=40))
    make_report(cases[2], state="failed", age=timedelta(minutes=30), kind="data")
    make_report(cases[3], state="queued", age=timedelta(minutes=10))

    m = metrics(client)
    assert m[("console_reports", (("state", "finished"),))] == 2
    assert m[("console_reports", (("state", "failed"),))] == 1
    assert m[("console_reports", (("state", "queued"),))] == 1
    assert m[("console_filing_seconds_bucket", (("le", "5"),))] == 1
    assert m[("console_filing_seconds_bucket", (("le", "60"),))] == 2
    assert m[("console_filing_seconds_count", ())] == 2
    assert m[("console_filing_seconds_sum", ())] == pytest.approx(44, abs=0.5)
    assert m[("console_reports_stopped", (("reason", "data"),))] == 1
    assert m[("console_open_cases", (("queue", q.slug),))] == q.open_cases
    # The oldest unfinished report (the failed one) started 30 minutes ago.
    assert m[("console_filing_clock_seconds", ())] == pytest.approx(30 * 60, abs=5)
    assert ("console_rq_workers", ()) in m


def test_metrics_need_the_token_or_an_allowed_network(ctx, client, app):
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    app.config["METRICS_TOKEN"] = "s3cret-token"
    assert (
        client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer wrong"}).status_code
        == 403
    )
    ok = client.get("/metrics", environ_base=outside, headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and "console_reports" in ok.text


def test_admins_see_the_filing_clock_banner_past_its_threshold(ctx, client, auth, app):
    factories.user("admin", email="a@example.org")
    q = factories.queue()
    auth.login("a@example.org")
    page = client.get("/queues").text
    assert 'hx-get="/ops/banner"' in page  # loaded after the page, never queried by the template

    app.config["FILING_CLOCK_ALERT_MINUTES"] = 60
    make_report(factories.case(q), state="queued", age=timedelta(minutes=20))
    assert "Filing clock" not in client.get("/ops/banner").text
    make_report(factories.case(q), state="submitted", age=timedelta(minutes=95))
    banner = client.get("/ops/banner").text
    assert "Filing clock: 95 min." in banner and "longer than 60 min" in banner


def test_moderators_get_no_banner_and_no_workers_page(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    auth.login("m@example.org")
    assert 'id="ops-banner"' not in client.get("/queues").text
    assert client.get("/ops/banner").status_code == 403
    assert client.get("/settings/workers").status_code == 403


def test_the_workers_page_shows_readiness_workers_and_the_clock(ctx, client, auth):
    factories.user("admin", email="a@example.org")
    auth.login("a@example.org")
    page = client.get("/settings/workers").text
    assert "Workers and the filing clock" in page
    assert "No worker is running" in page and "Oldest unfinished report" in page
