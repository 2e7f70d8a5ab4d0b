"""Structured logs (LOG_FORMAT=json) and the request id that follows work from the web into real workers."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rq import Queue

from console import logs, tasks
from console.extensions import db
from console.reporting.models import ExternalReport
from tests import factories
from tests.conftest import ROOT, csrf_from
from tests.factories import CSAM
from tests.reporting.helpers import reporting_setup

RQ = str(Path(sys.executable).parent / "rq")
GENERATED = re.compile(r"[0-9a-f]{32}")


def lines(text: str) -> list[dict]:
    """Every line of a JSON log, parsed: a line that is not one JSON object fails the test."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def json_logs(app):
    """LOG_FORMAT=json for this test's process (as create_app sets it from the environment), undone after.

    The session's migrations ran alembic's `fileConfig`, which disables every logger that existed then (the
    console's included) in this process; a worker or web process never runs it, so they are enabled again.
    """
    for name, logger in logging.root.manager.loggerDict.items():
        if name.split(".")[0] in logs.OWN_LOGGERS and isinstance(logger, logging.Logger):
            logger.disabled = False
    logs.configure("json")
    yield
    logs.configure("text")


@pytest.fixture
def logging_route(app):
    """A page that logs, standing in for any view that logs while it handles a request."""

    @app.get("/_test/log")
    def log_something():
        log = logging.getLogger("console.test_logs")
        log.warning("handled\nwith a newline", extra={"case_id": 41})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("failed", extra={"report_id": 12})
        return "ok"

    @app.get("/_test/enqueue")
    def enqueue_something():
        tasks.enqueue("tests.ops.logjobs.relay", "from-the-web")
        return "ok"

    return app


# --- the formatter ------------------------------------------------------------------------------------------


def test_the_json_formatter_writes_one_object_per_line_with_the_fields():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    log = logging.getLogger("console.test_formatter")
    log.addHandler(handler)
    log.propagate = False
    try:
        tokens = logs.bind("req-1", "job-1")
        try:
            log.warning("report %s: line one\nline two", 5, extra={"case_id": 3, "report_id": 5})
            try:
                {}["missing"]
            except KeyError:
                log.exception("unexpected")
        finally:
            logs.unbind(tokens)
        log.warning("outside")
    finally:
        log.removeHandler(handler)
        log.propagate = True

    first, second, third = lines(out.getvalue())  # the newline in a message stays inside its line
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert first == {
        "time": first["time"],
        "level": "WARNING",
        "logger": "console.test_formatter",
        "message": "report 5: line one\nline two",
        "request_id": "req-1",
        "job_id": "job-1",
        "case_id": 3,
        "report_id": 5,
    }
    assert second["level"] == "ERROR" and second["request_id"] == "req-1"
    assert second["exception"].startswith("Traceback") and "KeyError: 'missing'" in second["exception"]
    assert third["request_id"] is None and "job_id" not in third and "exception" not in third


def test_text_is_the_default_and_an_unknown_format_is_refused(app):
    assert app.config["LOG_FORMAT"] == "text"
    assert not any(isinstance(h.formatter, logs.JsonFormatter) for h in logging.getLogger().handlers)
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.configure("xml")


# --- the web ------------------------------------------------------------------------------------------------


def test_a_request_id_comes_back_and_is_on_every_line_of_its_request(
    json_logs, logging_route, client, capsys
):
    capsys.readouterr()
    response = client.get("/_test/log", headers={"X-Request-ID": "edge-7f3a.42"})
    assert response.headers["X-Request-ID"] == "edge-7f3a.42"
    mine = [e for e in lines(capsys.readouterr().err) if e["logger"] == "console.test_logs"]
    assert [(e["message"], e["request_id"]) for e in mine] == [
        ("handled\nwith a newline", "edge-7f3a.42"),
        ("failed", "edge-7f3a.42"),
    ]
    assert (
        mine[0]["case_id"] == 41
        and mine[1]["report_id"] == 12
        and "RuntimeError: boom" in mine[1]["exception"]
    )

    # No header: an id is made, sent back, and logged; each request its own.
    ids = []
    for _ in range(2):
        response = client.get("/_test/log")
        ids.append(response.headers["X-Request-ID"])
        assert GENERATED.fullmatch(ids[-1])
        assert {e["request_id"] for e in lines(capsys.readouterr().err)} == {ids[-1]}
    assert ids[0] != ids[1]
    # Every page gets one, whatever answers it (a 404 here).
    assert GENERATED.fullmatch(client.get("/no-such-page").headers["X-Request-ID"])


HOSTILE = [
    'x\n{"level": "CRITICAL", "message": "forged"}',
    "x" * 10_000,
    "ünïcode-id",
    "\x1b[31mred",
    "two words",
    "",
    'quote"d',
]


@pytest.mark.parametrize(
    "hostile", HOSTILE, ids=["newline", "10k", "non-ascii", "escape", "space", "empty", "quote"]
)
def test_a_hostile_request_id_is_replaced_and_never_logged(json_logs, logging_route, client, capsys, hostile):
    capsys.readouterr()
    # Straight into the WSGI environ: the test client itself refuses a newline in a header.
    response = client.get("/_test/log", environ_overrides={"HTTP_X_REQUEST_ID": hostile})
    replaced = response.headers["X-Request-ID"]
    assert GENERATED.fullmatch(replaced)
    err = capsys.readouterr().err
    entries = lines(err)
    assert entries and {e["request_id"] for e in entries} == {replaced}
    if hostile:
        assert hostile not in err and json.dumps(hostile)[1:-1] not in err
    assert "forged" not in err


def test_a_sane_id_is_a_short_printable_token():
    assert logs.sane_request_id("Root=1-5e1b4151-5ac6c58f5b5daa6532e7d8d1") is not None
    assert logs.sane_request_id("a" * logs.MAX_ID_LENGTH) is not None
    for bad in ["a" * (logs.MAX_ID_LENGTH + 1), "a\tb", "a\x00", "é", None, 42, b"bytes"]:
        assert logs.sane_request_id(bad) is None


# --- into the jobs ------------------------------------------------------------------------------------------


def test_jobs_enqueued_during_a_request_carry_its_id(app, logging_route, client, ctx):
    client.get("/_test/enqueue", headers={"X-Request-ID": "web-1"})
    [job] = tasks.task_queue().jobs
    assert job.func_name == "tests.ops.logjobs.relay" and job.meta == {"request_id": "web-1"}

    # A retry scheduled by a job (enqueue_at, as the pipeline does) carries the id the job was started with.
    from datetime import UTC, datetime

    tokens = logs.bind("job-origin", "j1")
    try:
        scheduled = tasks.task_queue().enqueue_at(datetime.now(UTC), "tests.ops.logjobs.leaf", "x")
        kept = tasks.task_queue().enqueue("tests.ops.logjobs.leaf", "y", meta={"request_id": "given"})
    finally:
        logs.unbind(tokens)
    assert scheduled.meta == {"request_id": "job-origin"} and kept.meta == {"request_id": "given"}
    # Nothing bound (the CLI, RQ's cron): no id in the meta; the worker makes one.
    assert tasks.task_queue().enqueue("tests.ops.logjobs.leaf", "z").meta == {}


def _worker_env(app) -> dict:
    cfg = app.config
    return {
        **os.environ,
        "LOG_FORMAT": "json",
        "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"),
        "REDIS_URL": cfg["REDIS_URL"],
        "RQ_QUEUE": cfg["RQ_QUEUE"],
        "MEDIA_ROOT": cfg["MEDIA_ROOT"],
        "CONSOLE_INSTANCE_PATH": cfg["INSTANCE_PATH"],
        "SECRET_KEY": cfg["SECRET_KEY"],
        "CREDENTIALS_KEYS": cfg["CREDENTIALS_KEYS"],
        "NCMEC_CONNECT_TIMEOUT": "2",
        "NCMEC_READ_TIMEOUT": "5",
    }


def run_real_worker(app, tmp_path) -> list[dict]:
    """`rq worker -c jobs.settings -w jobs.worker.ConsoleWorker --burst` (the production worker) in its own
    process, LOG_FORMAT=json: its stderr, parsed line by line (every line must be JSON)."""
    db.session.commit()  # SQLite: no lock held by this session while the worker writes
    err = tmp_path / "worker.stderr"
    with err.open("wb") as stderr:
        subprocess.run(
            [
                RQ,
                "worker",
                "-c",
                "jobs.settings",
                "-w",
                "jobs.worker.ConsoleWorker",
                "--burst",
                "--url",
                app.config["REDIS_URL"],
                app.config["RQ_QUEUE"],
            ],
            env=_worker_env(app),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            timeout=120,
            check=True,
        )
    db.session.expire_all()
    return lines(err.read_text())


def test_a_report_filed_on_the_web_is_followed_into_a_real_worker(
    json_logs, app, ctx, client, auth, ncmec_simulator, capsys, tmp_path
):
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    case = factories.case(
        factories.queue("User reports", "user_report"),
        images=1,
        content_url="https://platform.example/p/42",
        reported_user={"platform_id": "u-42", "name": "Rex Reported", "email": "rex@platform.example"},
    )
    auth.login("mod@example.org")
    auth.post(
        f"/cases/{case.id}/decision",
        {"verdict": "violation", "policy": policies["csam"].id},
        htmx=True,
        token_from=f"/cases/{case.id}",
    )
    token = csrf_from(client.get(f"/cases/{case.id}/ncmec-report").text)
    capsys.readouterr()
    response = client.post(
        f"/cases/{case.id}/ncmec-report",
        data={"incident_type": CSAM, "csrf_token": token},
        headers={"HX-Request": "true", "X-Request-ID": "trace-report-0001"},
    )
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "trace-report-0001"
    [report] = db.session.scalars(db.select(ExternalReport)).all()
    [web] = [e for e in lines(capsys.readouterr().err) if e["logger"] == "console.tasks"]
    assert web["request_id"] == "trace-report-0001" and web["message"].startswith(
        "enqueued jobs.reports.file_report"
    )
    job_id = web["enqueued_job_id"]

    worker = run_real_worker(app, tmp_path)

    assert report.state == "finished", [(e["logger"], e["message"], e.get("exception")) for e in worker]
    # The worker's lines for that job carry the web request's id and the job's id.
    ours = [e for e in worker if e["request_id"] == "trace-report-0001"]
    # ... and so do the follow-up jobs the filing job enqueued (evidence, hash bank): the id carries on.
    follow_ups = {e.get("enqueued_job_id") for e in ours if e["job_id"] == job_id} - {None}
    assert ours and follow_ups and {e["job_id"] for e in ours} == {job_id} | follow_ups
    assert any(e["logger"] == "jobs" and e["message"].startswith(f"job {job_id} started") for e in ours)
    # RQ's own lines are JSON too (its handlers are not installed when the app's are), and the production
    # worker class binds the ids around the job: its "Job OK" names the same request.
    assert any(e["logger"] == "rq.worker" for e in worker)
    assert any(e["logger"] == "rq.worker" and "Job OK" in e["message"] for e in ours), [
        (e["logger"], e["message"], e["request_id"]) for e in worker
    ]


def test_jobs_enqueued_by_jobs_keep_the_id_and_jobs_without_an_origin_get_one(
    app, logging_route, ctx, client, tmp_path
):
    client.get("/_test/enqueue", headers={"X-Request-ID": "relay-origin"})
    # A job nobody started (as RQ's cron enqueues: a plain Queue, no request bound).
    Queue(app.config["RQ_QUEUE"], connection=tasks.redis_connection()).enqueue(
        "tests.ops.logjobs.leaf", "orphan"
    )

    worker = run_real_worker(app, tmp_path)

    said = {e["message"]: e for e in worker if e["logger"] == "jobs.test_logs"}
    relay, leaf, orphan = said["relay from-the-web"], said["leaf from-the-web"], said["leaf orphan"]
    assert relay["request_id"] == leaf["request_id"] == "relay-origin"
    assert relay["job_id"] != leaf["job_id"] and relay["case_id"] == 7 and leaf["report_id"] == 9
    assert GENERATED.fullmatch(orphan["request_id"]) and orphan["job_id"] not in {
        relay["job_id"],
        leaf["job_id"],
    }
