"""The whole console as production runs it, on parts of its own that a trial may break.

A PostgreSQL cluster and a redis-server of the stack's own (tests/infra/cluster.py), media and evidence on a
small filesystem of its own where the machine allows a mount, the web app served by gunicorn (a real server
process), several real workers of the production class (`rq worker -c jobs.settings -w
jobs.worker.ConsoleWorker --with-scheduler`), RQ's cron scheduler running jobs/cron.py (the sweeps, the
sealer), the CyberTipline simulator (in a thread of the test process, on a fixed port, so that it can go away
— connection refused — and come back with everything it received) and a platform's webhook receiver.

Timings are compressed, as a day of production would take a day: short NCMEC timeouts, leases and backoff
bounds, sweeps every second. The test process holds an app of its own on the same database, for the setup and
the oracle (tests/infra/trial.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from tests.infra.cluster import PgCluster, RedisServer, SmallDisk, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# A day of production, compressed: an unreachable NCMEC is retried every 0.2–2 s instead of 10 s–30 min.
COMPRESSED = {
    "NCMEC_CONNECT_TIMEOUT": "1",
    "NCMEC_READ_TIMEOUT": "2",
    "REPORT_LEASE_SECONDS": "6",
    "REPORT_RETRY_BASE_SECONDS": "0.2",
    "REPORT_RETRY_MAX_SECONDS": "2",
    "REPORT_MAX_ATTEMPTS": "400",
    "SWEEP_GRACE_SECONDS": "2",
    "SWEEP_INTERVAL_SECONDS": "2",
    "FOLLOW_UP_SWEEP_INTERVAL_SECONDS": "2",
    "EVIDENCE_SWEEP_INTERVAL_SECONDS": "2",
    "WEBHOOK_SWEEP_INTERVAL_SECONDS": "2",
    "HASHBANK_SWEEP_INTERVAL_SECONDS": "5",
    "AUDIT_SEAL_INTERVAL_SECONDS": "1",
    "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "WEBHOOK_RETRY_MAX_SECONDS": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "2",
    "WEBHOOK_LEASE_SECONDS": "6",
    "PLATFORM_WAIT_SECONDS": "5",
    "PLATFORM_RETRY_SECONDS": "1",
    "STORAGE_MIN_FREE_BYTES": str(256 * 1024),
    "LOGIN_RATE_LIMIT": "1000 per minute",
    "LOGIN_ADDRESS_RATE_LIMIT": "1000 per minute",
    "LOGIN_ACCOUNT_RATE_LIMIT": "1000 per minute",
}
METRICS_TOKEN = "infra-metrics-token"  # noqa: S105 - a test token


class Stack:
    def __init__(self, folder: Path, *, aof: bool = False, small_disk: bool = False):
        self.folder = folder
        self.pg = PgCluster().init()
        self.pg.start()
        self.database_url = self.pg.create_database("console")
        self.redis = RedisServer(folder / "redis", aof=aof)
        self.redis.start()
        # Small, yet roomy for a trial: a report's media and evidence are ~10 files, a 4 KiB tmpfs page each
        # (~40 KiB a report; a trial files 20–180). Only the full-disk trial fills it.
        self.disk = SmallDisk(folder / "store", size_kib=16384) if small_disk else None
        self.disk_problem = self.disk.mount() if self.disk else ""
        store = folder / "store"
        self.media_root, self.evidence_root = store / "media", store / "evidence"
        self.instance = folder / "instance"
        self.instance.mkdir(parents=True, exist_ok=True)
        self.queue = f"infra-{uuid.uuid4().hex[:8]}"
        self.sim_port = free_port()
        self.web_port = free_port()
        self.env = {
            **os.environ,
            **COMPRESSED,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "RQ_QUEUE": self.queue,
            "CONSOLE_INSTANCE_PATH": str(self.instance),
            "MEDIA_ROOT": str(self.media_root),
            "EVIDENCE_ROOT": str(self.evidence_root),
            "SECRET_KEY": "infra-secret-key",
            "CREDENTIALS_KEYS": Fernet.generate_key().decode(),
            "METRICS_TOKEN": METRICS_TOKEN,
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("SERVER_NAME", None)
        self.web: subprocess.Popen | None = None
        self.cron: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.simulator = None
        self._sim_app = None
        self.app = None

    # --- the app of the test process ---------------------------------------------------------------------

    def make_app(self):
        """Migrate the database and return an app on it (the same settings as the processes)."""
        from flask_migrate import upgrade

        from console import create_app

        saved = dict(os.environ)
        os.environ.update({k: v for k, v in self.env.items() if k != "PYTHONPATH"})
        try:
            app = create_app({"TESTING": True, "SERVER_NAME": None})
        finally:
            os.environ.clear()
            os.environ.update(saved)
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"), revision="heads")
        # Settings the processes read from the environment, as config values for the test process's app.
        for key, value in COMPRESSED.items():
            app.config[key] = type(app.config[key])(value) if key in app.config else value
        # The keys generated into the instance folder are the ones the processes read from it.
        self.env["AUDIT_SIGNING_KEY"] = app.config["AUDIT_SIGNING_KEY"]
        self.app = app
        return app

    # --- the CyberTipline simulator ------------------------------------------------------------------------

    def start_simulator(self, username: str, password: str):
        from simulator import SimulatorServer, create_simulator

        if self._sim_app is None:
            self._sim_app = create_simulator(username=username, password=password)
        self.simulator = SimulatorServer(self._sim_app, "127.0.0.1", self.sim_port).start()
        return self.simulator

    def ncmec_down(self) -> None:
        """NCMEC unreachable: nothing listens on its port any more (connection refused)."""
        self.simulator.shutdown()

    def ncmec_back(self) -> None:
        from simulator import SimulatorServer

        deadline = time.monotonic() + 30
        while True:
            try:
                self.simulator = SimulatorServer(self._sim_app, "127.0.0.1", self.sim_port).start()
                return
            except OSError:  # the port is still being released
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    # --- processes -----------------------------------------------------------------------------------------

    def _spawn(self, args: list[str], log: str) -> subprocess.Popen:
        out = open(self.folder / log, "ab")  # noqa: SIM115 - the child writes to it until it ends
        return subprocess.Popen(
            args, env=self.env, cwd=ROOT, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )

    def start_web(self) -> None:
        self.web = self._spawn(
            [
                str(BIN / "gunicorn"),
                "--workers",
                "1",
                "--threads",
                "8",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--no-control-socket",
                "--timeout",
                "60",
                "wsgi:app",
            ],
            "web.log",
        )
        wait_for_port(self.web_port, 60)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_worker(self) -> subprocess.Popen:
        proc = self._spawn(
            [
                str(BIN / "rq"),
                "worker",
                "-c",
                "jobs.settings",
                "-w",
                "jobs.worker.ConsoleWorker",
                "--with-scheduler",
                "--url",
                self.redis.url,
                "--logging_level",
                "WARNING",
                self.queue,
            ],
            "workers.log",
        )
        self.workers.append(proc)
        return proc

    def start_cron(self) -> None:
        self.cron = self._spawn(
            [str(BIN / "rq"), "cron", "--url", self.redis.url, str(ROOT / "jobs" / "cron.py")], "cron.log"
        )

    def registered_workers(self) -> set[int]:
        from redis import Redis
        from rq import Queue, Worker

        connection = Redis.from_url(self.redis.url, socket_timeout=5)
        try:
            return {w.pid for w in Worker.all(queue=Queue(self.queue, connection=connection))}
        except Exception:  # noqa: BLE001 - Redis down: nobody is registered that we can see
            return set()
        finally:
            connection.close()

    def wait_for_workers(self, count: int, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            alive = [p.pid for p in self.workers if p.poll() is None]
            if len(set(alive) & self.registered_workers()) >= count:
                return
            time.sleep(0.1)
        raise TimeoutError(f"{count} workers did not register within {seconds} s")

    def wipe_store(self) -> None:
        """Media and evidence of earlier trials out of the small filesystem (the database was emptied too):
        trial after trial would otherwise fill it, and a full disk is a fault of its own."""
        if self.disk is not None:
            self.disk.free()
        for folder in (self.media_root, self.evidence_root):
            shutil.rmtree(folder, ignore_errors=True)

    def start_processes(self, workers: int = 2) -> None:
        """The web, `workers` workers and the cron scheduler, started side by side."""
        self.start_cron()
        for _ in range(workers):
            self.start_worker()
        self.start_web()
        self.wait_for_workers(workers)

    def supervise(self) -> int:
        """What systemd's Restart=always does: a worker or the cron scheduler that exited is started again.
        Returns how many were restarted."""
        restarted = 0
        for proc in list(self.workers):
            if proc.poll() is not None:
                self.workers.remove(proc)
                self.start_worker()
                restarted += 1
        if self.cron is not None and self.cron.poll() is not None:
            self.start_cron()
            restarted += 1
        return restarted

    def stop_processes(self) -> None:
        procs = [p for p in (self.web, self.cron, *self.workers) if p is not None]
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.web, self.cron, self.workers = None, None, []

    def readiness(self) -> tuple[int, dict]:
        """/readyz as monitoring reads it (with the metrics token): the status and which part is down."""
        try:
            response = requests.get(
                f"{self.url}/readyz", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=15
            )
        except requests.RequestException as error:
            return 0, {"error": type(error).__name__}
        return response.status_code, response.json().get("checks", {})

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def close(self) -> None:
        self.stop_processes()
        if self.simulator is not None:
            try:
                self.simulator.shutdown()
            except OSError:  # already down (an NCMEC outage left it so)
                self.simulator = None
        if self.app is not None:
            with self.app.app_context():
                from console.extensions import db

                db.session.remove()
                db.engine.dispose()
        self.redis.stop()
        self.pg.destroy()
        if self.disk is not None:
            self.disk.unmount()
