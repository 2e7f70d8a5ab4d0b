"""Two machines: two web processes and two workers, each with an instance folder of its own, sharing only
PostgreSQL, Redis and the S3 store. A case with media comes in on one, is revealed and reported there; the
other reveals it, and preserves and exports the evidence; the package verifies. Neither reads a path the
other wrote: the first machine's media folder is deleted before the report is filed.

PostgreSQL only: SQLite is one machine's file (CI runs this with PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from console.api import tokens
from console.cases.models import Case
from console.evidence import packagecheck, signer
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.reporting.models import ExternalReport
from tests import factories
from tests.conftest import ROOT
from tests.evidence.helpers import CSAM, FAST
from tests.reporting.helpers import reporting_setup
from tests.s3 import free_port, moto_s3  # noqa: F401 — fixture

BIN = ROOT / ".venv" / "bin"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Machine:
    """One web process (gunicorn) and one worker (`rq worker`, the production class) on their own folder."""

    def __init__(self, name: str, folder: Path, env: dict[str, str]):
        self.name, self.folder = name, folder
        folder.mkdir(mode=0o700)
        self.env = {**env, "CONSOLE_INSTANCE_PATH": str(folder), "MEDIA_ROOT": str(folder / "media")}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        logs = open(folder / "processes.log", "wb")  # noqa: SIM115 — closed with the processes
        self.logs = logs
        common = dict(env=self.env, cwd=ROOT, start_new_session=True, stdout=logs, stderr=logs)
        self.web = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{self.port}"]
            + ["--no-control-socket", "wsgi:app"],
            **common,
        )
        self.worker = subprocess.Popen(
            [str(BIN / "rq"), "worker", "-c", "jobs.settings", "-w", "jobs.worker.ConsoleWorker"]
            + ["--url", env["REDIS_URL"], env["RQ_QUEUE"]],
            **common,
        )

    def wait_until_up(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                break
            try:
                requests.get(f"{self.url}/login", timeout=10)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        raise AssertionError(
            f"{self.name} did not start: {(self.folder / 'processes.log').read_text()[-3000:]}"
        )

    def session(self, email: str) -> Person:
        return Person(self, email)

    def stop(self) -> None:
        for proc in (self.web, self.worker):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in (self.web, self.worker):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.logs.close()


class Person:
    """A signed-in browser on one machine (plain HTTP, the CSRF token from each page as a browser would)."""

    def __init__(self, machine: Machine, email: str):
        self.machine, self.http = machine, requests.Session()
        self.url = machine.url
        page = self.http.get(f"{self.url}/login", timeout=30)
        signed_in = self.http.post(
            f"{self.url}/login",
            data={"email": email, "password": factories.PASSWORD, "csrf_token": self.token_of(page.text)},
            timeout=30,
        )
        assert signed_in.status_code == 200 and "/login" not in signed_in.url, signed_in.text[:500]

    @staticmethod
    def token_of(html: str) -> str:
        return CSRF.search(html).group(1)

    def get(self, path: str, **kw):
        return self.http.get(f"{self.url}{path}", timeout=60, **kw)

    def post(self, path: str, data: dict, *, token_from: str, htmx: bool = False):
        data = {**data, "csrf_token": self.token_of(self.get(token_from).text)}
        headers = {"HX-Request": "true", "HX-Current-URL": f"{self.url}{token_from}"} if htmx else {}
        return self.http.post(f"{self.url}{path}", data=data, headers=headers, timeout=60)

    def reveal(self, case_id: int, media_id: int) -> bytes:
        tile = self.post(
            f"/cases/{case_id}/media/{media_id}/reveal", {}, token_from=f"/cases/{case_id}", htmx=True
        )
        assert tile.status_code == 200, tile.text[:500]
        src = re.search(r'src="([^"]+/file[^"]*)"', tile.text).group(1).replace("&amp;", "&")
        served = self.get(src, headers={"Referer": f"{self.url}/cases/{case_id}"})
        assert served.status_code == 200
        return served.content


def wait_for(what: str, check, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def machines(ctx, moto_s3, tmp_path, ncmec_simulator):  # noqa: F811
    cfg = ctx.config
    if not cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("two machines share PostgreSQL; SQLite is one machine's file (set DATABASE_URL)")
    if not (BIN / "gunicorn").exists():
        pytest.skip("needs .venv (make test creates it)")
    s3 = moto_s3.settings()
    cfg.update(s3)
    cfg.update(FAST)
    ctx.extensions.pop("s3_client", None)
    from console.media import objectstore

    objectstore.create_buckets()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"),
        "REDIS_URL": cfg["REDIS_URL"],
        "RQ_QUEUE": cfg["RQ_QUEUE"],
        "SECRET_KEY": cfg["SECRET_KEY"],
        "CREDENTIALS_KEYS": cfg["CREDENTIALS_KEYS"],
        "AUDIT_SIGNING_KEY": cfg["AUDIT_SIGNING_KEY"],
        "AUDIT_LOG_ORIGIN": cfg["AUDIT_LOG_ORIGIN"],
        **s3,
        **{k: str(v) for k, v in FAST.items()},
    }
    started = []
    try:
        for name in ("a", "b"):
            started.append(Machine(name, tmp_path / name, env))
        for machine in started:
            machine.wait_until_up()
        yield started
    finally:
        for machine in started:
            machine.stop()


def test_a_report_filed_on_one_machine_is_preserved_and_exported_from_the_other(
    ctx, machines, ncmec_simulator, tmp_path
):
    a, b = machines
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    factories.queue("User reports", "user_report")
    factories.user("moderator", email="mod@example.org", name="Mo Derator")
    factories.user("moderator", email="second@example.org", name="Sec Ond")
    factories.user("admin", email="admin@example.org", name="Ada Admin")
    _token, raw = tokens.create_token("scanner")
    db.session.commit()
    picture = factories.png_bytes(5)

    # Machine A takes the case in: the file goes to the bucket.
    case_json = {
        "content_id": "post-2m",
        "text": "two machines",
        "content_url": "https://platform.example/p/2m",
        "reported_user": {"platform_id": "acct-2m", "name": "Sam Example"},
        "reported_at": "2024-05-01T13:45:00+02:00",
        "source_kind": "user_report",
    }
    posted = requests.post(
        f"{a.url}/api/v1/cases",
        headers={"Authorization": f"Bearer {raw}"},
        data={"case": json.dumps(case_json)},
        files=[("media", ("photo.png", picture, "image/png"))],
        timeout=60,
    )
    assert posted.status_code in (200, 201), posted.text
    case = wait_for("the case", lambda: db.session.scalar(select(Case).where(Case.content_id == "post-2m")))
    media = case.media[0]
    assert media.sha256 == hashlib.sha256(picture).hexdigest()

    # On A: a moderator reveals it, confirms the violation and files the report.
    mod_a = a.session("mod@example.org")
    assert mod_a.reveal(case.id, media.id) == picture
    decided = mod_a.post(
        f"/cases/{case.id}/decision",
        {"verdict": "violation", "policy": policies["csam"].id},
        token_from=f"/cases/{case.id}",
        htmx=True,
    )
    assert decided.status_code == 200, decided.text[:500]
    # Nothing on A's disk is of use to anyone else from here on.
    shutil.rmtree(a.folder / "media")
    filed = mod_a.post(
        f"/cases/{case.id}/ncmec-report",
        {"incident_type": CSAM},
        token_from=f"/cases/{case.id}/ncmec-report",
        htmx=True,
    )
    assert filed.status_code == 200, filed.text[:500]

    # A worker (either machine's) files it with NCMEC; the evidence is preserved into the bucket.
    report = wait_for(
        "the report to finish",
        lambda: db.session.scalar(
            select(ExternalReport).where(
                ExternalReport.case_id == case.id, ExternalReport.state == "finished"
            )
        ),
    )
    record = wait_for(
        "the evidence",
        lambda: db.session.scalar(
            select(EvidenceRecord).where(
                EvidenceRecord.report_id == report.id, EvidenceRecord.state == "preserved"
            )
        ),
    )
    [sent] = ncmec_simulator.reports("finished")
    assert len(sent["files"]) == 1

    # On B: another moderator reveals the file (B fetches it from the bucket), an admin exports the package.
    mod_b = b.session("second@example.org")
    assert mod_b.reveal(case.id, media.id) == picture
    admin_b = b.session("admin@example.org")
    page = admin_b.get(f"/evidence/reports/{report.id}")
    # Hashes are shown in groups with <wbr> between them (a phone breaks them there).
    assert page.status_code == 200 and record.items[0].sha256 in page.text.replace("<wbr>", "")
    made = admin_b.post(
        f"/evidence/reports/{report.id}/package",
        {"reason": "Request 2M"},
        token_from=f"/evidence/reports/{report.id}",
    )
    assert made.status_code == 200 and made.headers["Content-Type"] == "application/zip"
    result = packagecheck.verify(io.BytesIO(made.content), signer.current().public_key)
    assert result.ok, result.problems
    with zipfile.ZipFile(io.BytesIO(made.content)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    [image] = [n for n in files if n.startswith("files/") and n.endswith(".png")]
    assert files[image] == picture
    steps = json.loads(files["custody.json"])["steps"]
    reveals = [s["who"] for s in steps if s["action"] == "media_revealed"]
    assert reveals == ["Mo Derator <mod@example.org>", "Sec Ond <second@example.org>"]
    assert all(s["proof"] is not None for s in steps)

    # Neither machine keeps evidence on its disk; B's media cache holds what B fetched itself.
    for machine in (a, b):
        evidence = machine.folder / "evidence"
        assert not evidence.exists() or not [p for p in evidence.rglob("*") if p.is_file()]
    assert (b.folder / "media" / media.storage_key[:2] / media.storage_key).read_bytes() == picture
