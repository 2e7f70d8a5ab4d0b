"""Filing reports through real `rq worker` processes while the CyberTipline misbehaves.

The workers run the production command, `rq worker -c jobs.settings -w jobs.worker.ConsoleWorker` (no
work-horse: jobs run in the worker process, which a SIGKILL takes down mid-call as it took a horse down).

Used by tests/reporting/test_fault_suite.py (a few trials, in CI) and bench/fault_trials.py (hundreds).
The oracle is the product's promise: every report that should exist is finished exactly once at NCMEC, none
twice, none missing; each content item (alone, or one of a bundle's) is in exactly one finished report, no
content is dropped from its bundle, every file of every content is in the finished report with its fileinfo,
and every other uploaded file belongs to a report we abandoned (retracted).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from console.cases import service as cases
from console.extensions import db
from console.reporting import filing, pipeline, sweep
from console.reporting.models import ExternalReport, ReportContent
from tests import factories
from tests.factories import CSAM
from tests.reporting.helpers import reporting_setup

RQ = str(Path(sys.executable).parent / "rq")
WORKER_CLASS = "jobs.worker.ConsoleWorker"  # as console/runner.py and the README start workers
FAST = {
    "NCMEC_CONNECT_TIMEOUT": 1.0,
    "NCMEC_READ_TIMEOUT": 0.8,
    "REPORT_LEASE_SECONDS": 3.0,
    "REPORT_RETRY_BASE_SECONDS": 0.1,
    "REPORT_RETRY_MAX_SECONDS": 0.5,
    "SWEEP_GRACE_SECONDS": 1.0,
}


class Workers:
    """Real `rq worker` processes of the production class, killed with SIGKILL on demand."""

    def __init__(self, app, redis_url: str | None = None):
        cfg = app.config
        self.queue = cfg["RQ_QUEUE"]
        self.redis_url = redis_url or cfg["REDIS_URL"]
        self.env = {
            **os.environ,
            "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://"),
            "REDIS_URL": self.redis_url,
            "RQ_QUEUE": self.queue,
            "MEDIA_ROOT": cfg["MEDIA_ROOT"],
            "CONSOLE_INSTANCE_PATH": cfg["INSTANCE_PATH"],
            "SECRET_KEY": cfg["SECRET_KEY"],
            "CREDENTIALS_KEYS": cfg["CREDENTIALS_KEYS"],
            **{k: str(v) for k, v in FAST.items()},
        }
        self.procs: list[subprocess.Popen] = []
        self.kills = 0

    def start(self, *, scheduler: bool = False) -> subprocess.Popen:
        proc = subprocess.Popen(
            [
                RQ,
                "worker",
                "-c",
                "jobs.settings",
                "-w",
                WORKER_CLASS,
                "--url",
                self.redis_url,
                "--logging_level",
                "WARNING",
                *(["--with-scheduler"] if scheduler else []),
                self.queue,
            ],
            env=self.env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def alive(self) -> list[subprocess.Popen]:
        return [p for p in self.procs if p.poll() is None]

    def working(self) -> list[subprocess.Popen]:
        """Alive and registered with RQ on the queue: started up (app built, warmed) and taking jobs.

        On a loaded machine a worker takes seconds to start; a SIGKILL before it registers tests nothing.
        """
        from redis import Redis
        from rq import Queue, Worker

        connection = Redis.from_url(self.redis_url)
        try:
            pids = {w.pid for w in Worker.all(queue=Queue(self.queue, connection=connection))}
        finally:
            connection.close()
        return [p for p in self.alive() if p.pid in pids]

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker (its process group): no cleanup, no callbacks, exactly like a lost machine."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        self.kills += 1

    def stop_all(self) -> None:
        """End of a trial: a warm shutdown, so that each scheduler gives up its lock (a SIGKILLed one holds it
        for a minute, and the next trial's retries would wait for the sweep); SIGKILL what does not stop."""
        for proc in self.alive():
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._unregister_the_dead()

    def _unregister_the_dead(self) -> None:
        """A SIGKILLed worker stays registered with RQ until its key expires (minutes): take ours out, so that
        the next test (readiness counts workers) sees none of them."""
        from redis import Redis
        from redis.exceptions import ConnectionError as RedisDown
        from rq import Queue, Worker

        ours = {p.pid for p in self.procs}
        connection = Redis.from_url(self.redis_url)
        try:
            for worker in Worker.all(queue=Queue(self.queue, connection=connection)):
                if worker.pid in ours:
                    worker.register_death()
        except RedisDown:
            pass  # a test that stopped its Redis: nothing registered survives it
        finally:
            connection.close()


@dataclass
class Trial:
    reports: list[int] = field(default_factory=list)
    # Every file the report must hold: every file of every one of its contents.
    file_md5s: dict[int, list[str]] = field(default_factory=dict)
    # The content items each report is about, by the URL its report carries (one report per item, not per
    # bytes): one URL for a report about one content, several for a bundle (one incident of one user).
    item_urls: dict[int, list[str]] = field(default_factory=dict)
    # Reports the simulator already held before this trial (several trials share one simulator).
    baseline: set[str] = field(default_factory=set)

    @property
    def all_urls(self) -> list[str]:
        return [url for urls in self.item_urls.values() for url in urls]


def make_reports(app, simulator, n: int, seed: int) -> Trial:
    """n reports of confirmed contents, each with 0–2 media files (0: a URL-only report), queued for filing.

    About a fifth are reposts: another post carrying the same bytes as an earlier one of the trial — another
    content item, with its own report. About a third are bundles: 2–3 contents of one user in one report
    (one incident), every content's files in it. Some items are confirmed again (re-reviewed): still one
    report, the one that holds them (a bundle too).
    """
    from console.media import storage

    app.config.update(FAST)
    rnd = random.Random(seed)
    _policies, review, rule = reporting_setup(simulator)
    mod = factories.user("moderator")
    trial = Trial(baseline={r["report_id"] for r in simulator.reports()})
    with_media = []
    for i in range(n):
        size = rnd.choice([1, 1, 2, 3])
        user = {"platform_id": f"u-{seed}-{i}", "name": f"User {seed}-{i}"}
        contents = []
        for k in range(size):
            url = f"https://platform.example/p/{seed}-{i}-{k}"
            if with_media and rnd.random() < 0.2:
                original = rnd.choice(with_media)
                c = factories.case(review, content_url=url, reported_user=user)
                for m in original.media:
                    with open(storage.path_for(m), "rb") as fh:
                        storage.store(c.id, "repost-" + m.original_name, fh, m.mime_type)
                db.session.commit()
                db.session.refresh(c)
            else:
                c = factories.case(
                    review, images=rnd.choice([0, 1, 2, 2]), content_url=url, reported_user=user
                )
            if c.media:
                cases.reveal(c.media[0].id, c.id, mod)
                with_media.append(c)
            contents.append(c)
        if size == 1:
            report, created = filing.create_report(contents[0], rule, CSAM, triggered_by="ai", created_by=mod)
            assert created
        else:
            report = filing.create_bundle(contents, rule, CSAM, triggered_by="human", created_by=mod)
        db.session.commit()
        trial.reports.append(report.id)
        trial.file_md5s[report.id] = [m.md5 for c in contents for m in c.media]
        trial.item_urls[report.id] = [c.content_url for c in contents]
        if rnd.random() < 0.2:  # re-reviewed: the same item finds its report (the bundle that holds it)
            again, created = filing.create_report(
                rnd.choice(contents), rule, CSAM, triggered_by="ai", created_by=mod
            )
            db.session.commit()
            assert not created and again.id == report.id
    db.session.rollback()
    return trial


def enqueue_all(trial: Trial) -> None:
    from console import tasks

    for report_id in trial.reports:
        tasks.enqueue(pipeline.JOB, report_id)


def states(trial: Trial) -> Counter:
    db.session.rollback()
    rows = db.session.execute(
        db.select(ExternalReport.state).where(ExternalReport.id.in_(trial.reports))
    ).scalars()
    result = Counter(rows)
    db.session.rollback()
    return result


def run_until_finished(
    trial: Trial,
    workers: Workers,
    *,
    deadline: float,
    sweep_every: float = 0.5,
    sweep_at_start: bool = True,
    chaos=None,
) -> Counter:
    """Sweep like the cron job would and let `chaos()` misbehave, until all are finished or time runs out."""
    last_sweep = 0.0 if sweep_at_start else time.monotonic()
    while time.monotonic() < deadline:
        current = states(trial)
        if current.get("finished", 0) == len(trial.reports):
            return current
        if chaos:
            chaos()
        if time.monotonic() - last_sweep > sweep_every:
            sweep.sweep()
            db.session.rollback()
            last_sweep = time.monotonic()
        time.sleep(0.1)
    return states(trial)


def check_oracle(trial: Trial, simulator) -> None:
    """The product's promise, checked at the service and in our database."""
    db.session.rollback()
    query = db.select(ExternalReport).where(ExternalReport.id.in_(trial.reports))
    rows = {r.id: r for r in db.session.scalars(query)}
    unfinished = {rid: (r.state, r.last_error) for rid, r in rows.items() if r.state != "finished"}
    assert not unfinished, f"reports not finished: {unfinished}"
    at_service = [r for r in simulator.reports() if r["report_id"] not in trial.baseline]
    finished = [r for r in at_service if r["state"] == "finished"]
    finished_ids = Counter(r["report_id"] for r in finished)
    ours = Counter(r.ncmec_report_id for r in rows.values())
    # Exactly once: one finished report per content item, and it is the one we recorded.
    assert len(finished) == len(trial.reports), (len(finished), len(trial.reports))
    assert finished_ids == ours
    xml = {r["report_id"]: simulator.report(r["report_id"])["xml"] for r in finished}
    # Each content item in exactly one finished report (a bundle's contents included) …
    per_item = Counter(url for x in xml.values() for url in trial.all_urls if f"<url>{url}</url>" in x)
    assert per_item == Counter(trial.all_urls), per_item
    for report_id, md5s in trial.file_md5s.items():
        received = next(r for r in finished if r["report_id"] == rows[report_id].ncmec_report_id)
        # … no content dropped from its bundle …
        missing = [
            u for u in trial.item_urls[report_id] if f"<url>{u}</url>" not in xml[received["report_id"]]
        ]
        assert not missing, (report_id, missing)
        # … and exactly the files we meant, every content's, each once and each described: no stray copy
        # from a lost /upload answer.
        got = [f["md5"] for f in received["files"]]
        assert sorted(got) == sorted(md5s), (report_id, got, md5s)
        assert all(f["details_received"] for f in received["files"]), received["files"]
    # Our side agrees: every content row of these reports is live, once per item.
    contents = list(
        db.session.scalars(db.select(ReportContent).where(ReportContent.report_id.in_(trial.reports)))
    )
    assert all(c.live for c in contents)
    assert len(contents) == len(trial.all_urls) and len({c.item for c in contents}) == len(contents)
    # Every other uploaded file sits in a report we abandoned on purpose (retracted, or left for NCMEC to
    # expire when the retraction itself failed); orphans of a lost /submit answer carry no files.
    abandoned = {rid for r in rows.values() for rid in r.payload.get("retracted_ids", [])}
    for r in at_service:
        if r["files"] and r["state"] != "finished":
            assert r["state"] == "retracted" or r["report_id"] in abandoned, r
    db.session.rollback()
