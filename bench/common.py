"""What every benchmark shares: the machine it ran on, median and spread, the results table, the environment
the console's processes get (database, Redis queue, instance folder), and small process helpers.

Every figure is a RATIO to a reference measured in the same run, over several rounds: the machine is shared
and noisy, so absolute numbers move from run to run while ratios stay comparable.
"""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "RESULTS.md"
VENV_BIN = Path(sys.executable).parent
PG_BASE = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DEFAULT_DB = "console_bench"
BENCH_PASSWORD = "bench-password-123"
BENCH_ADMIN = "bench-admin@example.org"
# Fixed keys for the benchmark databases only: the generator stores NCMEC credentials encrypted with it.
BENCH_CREDENTIALS_KEY = "bXlfYmVuY2hfa2V5X2lzX25vdF9hX3NlY3JldF9fX18="
BENCH_SECRET_KEY = "bench-secret-key-not-for-production"


# --- the machine ---


def machine() -> dict:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count() or 0, "cpu": model, "mem_gb": round(mem_gb, 1)}


def machine_label() -> str:
    m = machine()
    return f"{m['nproc']} cores, {m['cpu']}, {m['mem_gb']} GB"


def print_machine() -> None:
    m = machine()
    print(
        f"machine: nproc={m['nproc']} cpu={m['cpu']!r} memory={m['mem_gb']} GB "
        f"python={platform.python_version()} load={os.getloadavg()[0]:.2f}",
        flush=True,
    )


# --- statistics ---


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def spread(values: list[float]) -> tuple[float, float, float]:
    """(median, min, max)."""
    return statistics.median(values), min(values), max(values)


def fmt_spread(values: list[float], digits: int = 2) -> str:
    med, lo, hi = spread(values)
    return f"{med:.{digits}f} [{lo:.{digits}f}–{hi:.{digits}f}] (n={len(values)})"


# --- the results table ---

HEADER = (
    "| figure | reference | ratio median [min–max] | target | met? | date | machine |\n"
    "|---|---|---|---|---|---|---|\n"
)


def append_results(rows: list[dict]) -> None:
    """rows: {figure, reference, ratios (list), target, met (bool), note (optional)}."""
    if not RESULTS.exists() or not RESULTS.read_text().strip():
        RESULTS.write_text(
            "# Benchmark results\n\nAppended by the scripts in bench/ (see bench/README.md).\n\n" + HEADER
        )
    today = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    with RESULTS.open("a") as f:
        for row in rows:
            med, lo, hi = spread(row["ratios"])
            f.write(
                f"| {row['figure']} | {row['reference']} | {med:.2f} [{lo:.2f}–{hi:.2f}] "
                f"({len(row['ratios'])} rounds) | {row['target']} | {'yes' if row['met'] else '**no**'} "
                f"| {today} | {machine_label()} |\n"
            )


# --- databases and the console's environment ---


def db_url(name: str) -> str:
    return f"{PG_BASE}/{name}"


def admin_connect():
    import psycopg

    return psycopg.connect(db_url("postgres"), autocommit=True)


def database_exists(name: str) -> bool:
    with admin_connect() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def create_database(name: str, *, replace: bool) -> None:
    """Create `name`; with replace, drop it first — only ever a database whose name starts console_bench."""
    if not name.startswith("console_bench"):
        raise SystemExit(
            f"refusing to manage database {name!r}: benchmark databases start with console_bench"
        )
    with admin_connect() as conn:
        if replace:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def console_env(database: str, queue: str, instance: str | None = None, **extra: str) -> dict:
    """The environment a console process (flask, gunicorn, rq worker) gets for a benchmark."""
    instance = instance or tempfile.mkdtemp(prefix="bench-instance-")
    env = {
        **os.environ,
        "DATABASE_URL": db_url(database),
        "REDIS_URL": REDIS_URL,
        "RQ_QUEUE": queue,
        "CONSOLE_INSTANCE_PATH": instance,
        "MEDIA_ROOT": str(Path(instance) / "media"),
        "SECRET_KEY": BENCH_SECRET_KEY,
        "CREDENTIALS_KEYS": BENCH_CREDENTIALS_KEY,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def migrate(env: dict) -> None:
    subprocess.run(
        # "heads": feature branches of the schema apply together until they are merged (as in the tests).
        [str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade", "heads"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def use_env(env: dict) -> None:
    """Make this process see the same configuration as the processes it starts (before create_app)."""
    for key in (
        "DATABASE_URL",
        "REDIS_URL",
        "RQ_QUEUE",
        "CONSOLE_INSTANCE_PATH",
        "MEDIA_ROOT",
        "SECRET_KEY",
        "CREDENTIALS_KEYS",
    ):
        os.environ[key] = env[key]


# --- processes ---


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def stop(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop a process this benchmark started (its own process group), by its id."""
    import signal

    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_simulator(username: str = "esp-bench", password: str = "esp-bench-password") -> tuple:  # noqa: S107
    """The CyberTipline simulator in its own process (so it never shares a GIL with what it measures)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulator",
            "--port",
            str(port),
            "--username",
            username,
        ],
        cwd=ROOT,
        env={**os.environ, "CYBERTIPLINE_SIM_PASSWORD": password},
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, proc=proc)
    return proc, f"http://127.0.0.1:{port}", username, password


def set_latency(sim_root: str, latency_ms: float) -> None:
    import requests

    requests.delete(f"{sim_root}/_sim/faults", timeout=5).raise_for_status()
    requests.post(
        f"{sim_root}/_sim/faults", json={"faults": [], "latency_ms": latency_ms}, timeout=5
    ).raise_for_status()


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def noop() -> None:
    """The reference job: what RQ itself costs per job on this Redis."""
    return None


def time_by_layer(stats, layers, other: str) -> dict[str, float]:
    """Seconds of own time per layer from a pstats.Stats; `layers`: [(name, (path marks…))], first match wins.
    Built-ins ("~") are charged to their callers, in proportion to the calls."""
    from collections import defaultdict

    def layer(filename: str) -> str:
        for name, marks in layers:
            if any(m in filename for m in marks):
                return name
        return other

    out: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, callers) in stats.stats.items():
        if filename != "~" or not callers:
            out[layer(filename)] += tottime
            continue
        spent = sum(c[2] for c in callers.values()) or 1.0
        for (caller_file, _l, _n), c in callers.items():
            out[layer(caller_file)] += tottime * c[2] / spent
    return out
