"""Two checkouts of the console side by side, one request at a time: before/after ratios that a loaded machine
cannot fake.

    .venv/bin/python bench/pages_ab.py --before /path/to/other/checkout [--db console_bench] [--rounds 5]
        [--requests 30] [--phases queues,queue_first,queue_deep,case]

bench/pages.py --single compares one checkout with the bare page; on a shared machine its figures move with
the load from run to run, so two runs (before, after a change) compare poorly. Here three single-threaded
gunicorn servers on the same database — the bare reference page, the console from `--before` (another
checkout, e.g. `git worktree add /tmp/before main`) and the console from this checkout — are asked in turn,
request by request, by one signed-in user: every figure meets the same moments of the machine. Per phase and
round: p95 server time (gunicorn's `%(D)s`) of each, and the ratios before / reference, after / reference and
after / before; medians with [min–max] over the rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, pages  # noqa: E402


def start(app: str, env: dict, log: Path, checkout: Path) -> tuple[subprocess.Popen, int]:
    """One gunicorn worker, one thread, serving `app` from `checkout`'s code."""
    port = common.free_port()
    env = {**env, "PYTHONPATH": str(checkout)}
    proc = subprocess.Popen(
        [str(common.VENV_BIN / "gunicorn"), "-w", "1", "-k", "gthread", "--threads", "1"]
        + ["-b", f"127.0.0.1:{port}", "--keep-alive", "30", "--access-logfile", str(log)]
        + ["--access-logformat", "%(q)s %(s)s %(D)s", "--log-level", "warning", "--no-control-socket", app],
        cwd=checkout,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    common.wait_for_port(port, timeout=60, proc=proc)
    return proc, port


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 2 else values[0]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, type=Path, help="the other checkout (its own console/)")
    parser.add_argument("--db", default=common.DEFAULT_DB)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--deep", type=int, default=2000)
    parser.add_argument("--phases", default="queues,queue_first,queue_deep,case")
    args = parser.parse_args()
    common.print_machine()
    targets = pages.pick_targets(args.db, args.deep)
    phases = pages.page_paths(targets)
    chosen = [p.strip() for p in args.phases.split(",") if p.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-ab-"))
    env = common.console_env(args.db, f"bench-pages-ab-{os.getpid()}", str(tmp / "instance"))
    logs = {name: tmp / f"{name}.log" for name in ("reference", "before", "after")}
    servers = {
        "reference": start("bench.reference_app:app", env, logs["reference"], common.ROOT),
        "before": start("wsgi:app", env, logs["before"], args.before.resolve()),
        "after": start("wsgi:app", env, logs["after"], common.ROOT),
    }
    try:
        clients = {name: pages.Client(port) for name, (_proc, port) in servers.items()}
        for name in ("before", "after"):
            clients[name].login(common.BENCH_ADMIN, common.BENCH_PASSWORD)
            for path in ("/queues?b=warm", f"/queues/{targets['queue_id']}?b=warm"):
                for _ in range(5):
                    clients[name].request("GET", path)
        for _ in range(5):
            clients["reference"].request("GET", "/?b=warm")
        for r in range(1, args.rounds + 1):
            for phase in chosen:
                tag = f"r{r}-{phase}"
                pages.load_interleaved(
                    [
                        (clients["reference"], [f"/?b={tag}-ref"]),
                        (clients["before"], phases[phase](tag)),
                        (clients["after"], phases[phase](tag)),
                    ],
                    args.requests,
                )
        times = {name: pages.server_times(log) for name, log in logs.items()}
        print(f"\none user, requests interleaved reference → before → after, {args.rounds} rounds")
        for phase in chosen:
            ratios: dict[str, list[float]] = {"before": [], "after": [], "after/before": []}
            errors = 0
            for r in range(1, args.rounds + 1):
                tag = f"r{r}-{phase}"
                ref = p95(times["reference"][f"{tag}-ref"])
                before, after = p95(times["before"][tag]), p95(times["after"][tag])
                errors += len(times["before"].get(tag + ":errors", [])) + len(
                    times["after"].get(tag + ":errors", [])
                )
                ratios["before"].append(before / ref)
                ratios["after"].append(after / ref)
                ratios["after/before"].append(after / before)
            print(
                f"{phase:12} p95 ÷ reference: before {spread(ratios['before'])}×, "
                f"after {spread(ratios['after'])}×; after ÷ before {spread(ratios['after/before'])}; "
                f"errors {errors}"
            )
    finally:
        for proc, _port in servers.values():
            proc.terminate()
        for proc, _port in servers.values():
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
