"""Shared by worker.py, e2e.py and memory.py: a small filing database connected to the simulator, reports
created the way the console creates them (a case with media, `filing.create_report`, commit, then enqueue),
and real `rq worker -c jobs.settings -w jobs.worker.ConsoleWorker` processes (the production command) with
the same environment as production."""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from pathlib import Path

from bench import common
from console.ncmec import IncidentType

CSAM = IncidentType.CHILD_PORNOGRAPHY.value
# The production worker class (README, console/runner.py, the fault suite) and RQ's forking one.
PRODUCTION_WORKER = "jobs.worker.ConsoleWorker"
FORKING_WORKER = "rq.worker.Worker"


class Filing:
    def __init__(self, database: str, sim_url: str, sim_user: str, sim_password: str):
        common.create_database(database, replace=True)
        self.queue_name = f"bench-{os.getpid()}"
        self.instance = tempfile.mkdtemp(prefix="bench-filing-")
        self.env = common.console_env(database, self.queue_name, self.instance)
        common.migrate(self.env)
        common.use_env(self.env)
        from console import create_app

        self.app = create_app()
        self.ctx = self.app.app_context()
        self.ctx.push()
        from console.accounts.service import create_user
        from console.extensions import db
        from console.policies.models import Policy
        from console.queues.models import Queue
        from console.reporting import agencies, credentials
        from console.reporting.models import ReportingRule

        agency = agencies.ncmec()
        agency.environment, agency.custom_base_url = "custom", f"{sim_url}/ispws"
        agency.username, agency.password_encrypted = sim_user, credentials.encrypt(sim_password)
        policy = Policy(slug="csam", name="CSAM", ncmec_incident_type=CSAM)
        self.queue = Queue(name="AI review", slug="ai-review", source_kind="ai_review")
        self.moderator = create_user("bench-mod@example.org", "Bench Mod", common.BENCH_PASSWORD, "moderator")
        db.session.add_all([policy, self.queue])
        db.session.flush()
        self.rule = ReportingRule(
            name="NCMEC",
            agency_id=agency.id,
            review_queue_id=self.queue.id,
            contact_first_name="Rita",
            contact_last_name="Reporter",
            contact_email="rita@example.org",
            enabled=True,
            policies=[policy],
        )
        db.session.add(self.rule)
        db.session.commit()
        self.seq = 0
        from redis import Redis
        from rq import Queue as RQueue

        self.redis = Redis.from_url(common.REDIS_URL)
        self.rq = RQueue(self.queue_name, connection=self.redis)

    def make_report(self, files: int = 1) -> int:
        """A confirmed case with `files` images (one revealed), its report row; committed, not enqueued."""
        return self.confirm(self.make_case(files))

    def make_case(self, files: int = 1) -> int:
        """A case as ingestion leaves it, with `files` images, one of them revealed by the moderator."""
        from console.cases import service as cases
        from console.extensions import db
        from console.media import storage
        from console.timeutil import utcnow
        from tests.factories import png_bytes

        self.seq += 1
        n = self.seq
        user = cases.find_or_create_reported_user(
            platform_id=f"u-{n}", name=f"User {n}", email=f"u{n}@platform.example"
        )
        c = cases.open_case(
            self.queue,
            reported_at=utcnow(),
            text="(bench) flagged upload",
            content_url=f"https://platform.example/p/{os.getpid()}-{n}",
            content_id=f"bench-{n}",
            reported_user=user,
        )
        for i in range(files):
            # A few unique bytes per file, as real uploads mostly are (each case is its own content item).
            storage.store(c.id, f"file-{n}-{i}.png", io.BytesIO(png_bytes(n * 10 + i)), "image/png")
        db.session.flush()
        if files:
            cases.reveal(c.media[0].id, c.id, self.moderator)
        db.session.commit()
        return c.id

    def confirm(self, case_id: int) -> int:
        """What the confirm does for the report: the row created (`filing.create_report`) and committed."""
        from console.cases.models import Case
        from console.extensions import db
        from console.reporting import filing

        report, created = filing.create_report(
            db.session.get(Case, case_id), self.rule, CSAM, triggered_by="human", created_by=self.moderator
        )
        db.session.commit()
        assert created
        return report.id

    def enqueue(self, report_id: int):
        return self.rq.enqueue("jobs.reports.file_report", report_id)

    def state(self, report_id: int) -> tuple[str, object]:
        from console.extensions import db
        from console.reporting.models import ExternalReport

        db.session.rollback()
        row = db.session.get(ExternalReport, report_id)
        db.session.refresh(row)
        return row.state, row.finished_at

    def follow_ups_done(self, report_id: int) -> bool:
        """Every follow-up job the report's finish set going (evidence, hash bank, …) has done its work."""
        from sqlalchemy import func, select

        from console.extensions import db
        from console.reporting.models import ReportFollowUp

        db.session.rollback()
        pending = db.session.scalar(
            select(func.count())
            .select_from(ReportFollowUp)
            .where(ReportFollowUp.report_id == report_id, ReportFollowUp.state != "done")
        )
        db.session.rollback()
        return pending == 0

    def worker(
        self,
        *,
        burst: bool,
        worker_class: str | None = None,
        simple: bool = False,
        quiet: bool = True,
        env: dict | None = None,
    ) -> subprocess.Popen:
        """An `rq worker` of `worker_class` (worker.py and e2e.py pass PRODUCTION_WORKER); without one, RQ's
        SimpleWorker (simple=True) or its forking Worker, as bench/memory.py compares them."""
        worker_class = worker_class or ("rq.worker.SimpleWorker" if simple else FORKING_WORKER)
        cmd = [
            str(common.VENV_BIN / "rq"),
            "worker",
            "-c",
            "jobs.settings",
            "-w",
            worker_class,
            "--url",
            common.REDIS_URL,
            "--logging_level",
            "WARNING",
        ]
        if burst:
            cmd.append("--burst")
        cmd.append(self.queue_name)
        return subprocess.Popen(
            cmd,
            cwd=common.ROOT,
            env={**self.env, **(env or {})},
            start_new_session=True,
            stdout=subprocess.DEVNULL if quiet else None,
            stderr=subprocess.DEVNULL if quiet else None,
        )

    def close(self) -> None:
        from rq import Queue as RQueue

        from console import tasks

        RQueue(tasks.follow_up_queue_name(self.queue_name), connection=self.redis).delete(delete_jobs=True)
        self.rq.delete(delete_jobs=True)
        self.ctx.pop()


def job_rate(jobs) -> float:
    """Finished jobs per second, from RQ's own timestamps: first start to last end."""
    for job in jobs:
        job.refresh()
    done = [j for j in jobs if j.get_status() == "finished"]
    if len(done) != len(jobs):
        raise RuntimeError(f"{len(jobs) - len(done)} of {len(jobs)} jobs did not finish")
    start = min(j.started_at for j in done)
    end = max(j.ended_at for j in done)
    return len(done) / max((end - start).total_seconds(), 1e-6)


def rq_dir() -> Path:
    return common.VENV_BIN
