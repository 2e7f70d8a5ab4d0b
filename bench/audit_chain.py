"""What the audit log's hash chain costs per event under 20 concurrent writers, on PostgreSQL and SQLite.

    .venv/bin/python bench/audit_chain.py [--db both|postgresql|sqlite] [--writers 20] [--events 100]
                                          [--rounds 3] [--no-record]

Each writer is its own process with its own app and connection (as gunicorn workers and rq work-horses are);
each writes `--events` audit events, one per transaction (`audit.record` then commit: the console's shape).
Every round runs the same writers twice, with the chain and without it (console/evidence/chain.py's `enabled`
switch: without it no pending row is written and nothing is linked), in alternating order. Figures: events per
second over all writers, and the mean time one writer's transaction takes; the ratio chain ÷ without is the
cost. After the runs the chain is checked to be linear (contiguous positions, no two links after the same
hash).

PostgreSQL: a database `console_bench_chain` (created and replaced) at BENCH_PG. SQLite: a file in a
temporary folder. Both migrated to all heads first.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

DB_NAME = "console_bench_chain"


def _environment(kind: str) -> dict:
    instance = tempfile.mkdtemp(prefix="bench-chain-")
    env = common.console_env(DB_NAME, f"bench-{os.getpid()}", instance)
    if kind == "sqlite":
        env.pop("DATABASE_URL")
    else:
        common.create_database(DB_NAME, replace=True)
    subprocess.run(
        [str(common.VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade", "heads"],
        cwd=common.ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return env


def _writer(n: int, events: int, chained: bool, start, results) -> None:
    from console import audit, create_app
    from console.evidence import chain
    from console.extensions import db

    app = create_app()
    chain.enabled = chained
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))  # connected before the start
        db.session.rollback()
        start.wait()
        durations = []
        for i in range(events):
            began = time.perf_counter()
            audit.record("bench_event", "case", i, actor_label=f"bench writer {n}", n=i, chained=chained)
            db.session.commit()
            durations.append(time.perf_counter() - began)
        results.put((n, durations))
        db.session.remove()
        db.engine.dispose()


def run_once(writers: int, events: int, chained: bool) -> tuple[float, float]:
    """(events per second over all writers, mean ms per transaction)."""
    ctx = mp.get_context("fork")
    start, results = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(n, events, chained, start, results)) for n in range(writers)]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    durations = []
    for _ in procs:
        _n, d = results.get(timeout=600)
        durations.extend(d)
    wall = time.perf_counter() - began
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise RuntimeError(f"writer exited with {p.exitcode}")
    return writers * events / wall, statistics.mean(durations) * 1000


def check_linear() -> str:
    from console import create_app
    from console.extensions import db

    app = create_app()
    with app.app_context():
        count, distinct_prev, top = db.session.execute(
            db.text(
                "SELECT count(*), count(DISTINCT prev_hash), coalesce(max(seq), 0) FROM audit_chain_links"
            )
        ).one()
        db.engine.dispose()
    linear = count == distinct_prev == top
    shape = "linear" if linear else "FORKED"
    return f"{count} links, positions 1–{top}, {distinct_prev} distinct predecessors: {shape}"


def bench(kind: str, writers: int, events: int, rounds: int) -> dict:
    env = _environment(kind)
    for key in ("DATABASE_URL", "REDIS_URL", "RQ_QUEUE", "CONSOLE_INSTANCE_PATH", "MEDIA_ROOT", "SECRET_KEY"):
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)  # SQLite: the instance folder's database
    os.environ["CREDENTIALS_KEYS"] = env["CREDENTIALS_KEYS"]
    load_before = os.getloadavg()
    rates, latencies = {True: [], False: []}, {True: [], False: []}
    for r in range(rounds):
        for chained in (True, False) if r % 2 == 0 else (False, True):
            rate, ms = run_once(writers, events, chained)
            rates[chained].append(rate)
            latencies[chained].append(ms)
            print(
                f"{kind} round {r + 1} {'chain' if chained else 'plain'}: {rate:.0f} events/s, "
                f"{ms:.2f} ms per transaction",
                flush=True,
            )
    load_after = os.getloadavg()
    return {
        "kind": kind,
        "rates": rates,
        "latencies": latencies,
        "cost_ms": [1000 / c - 1000 / p for c, p in zip(rates[True], rates[False], strict=True)],
        "ratio_latency": [c / p for c, p in zip(latencies[True], latencies[False], strict=True)],
        "ratio_rate": [c / p for c, p in zip(rates[True], rates[False], strict=True)],
        "linear": check_linear(),
        "load": (load_before[0], load_after[0]),
    }


def _record(result: dict, writers: int) -> None:
    med = statistics.median
    kind = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}[result["kind"]]
    lat, rates = result["latencies"], result["rates"]
    lo, hi = min(result["ratio_latency"]), max(result["ratio_latency"])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    row = (
        f"| audit event with the hash chain, {writers} concurrent writers, {kind}: "
        f"{med(rates[True]):.0f} events/s, {med(lat[True]):.2f} ms per transaction "
        f"(+{med(result['cost_ms']):.2f} ms of throughput time per event) "
        f"| same writers without the chain: {med(rates[False]):.0f} events/s, {med(lat[False]):.2f} ms "
        f"| {med(result['ratio_latency']):.2f} [{lo:.2f}–{hi:.2f}] ({len(lat[True])} rounds) "
        f"| none set (measured) | — | {when} | {common.machine_label()}, "
        f"load {result['load'][0]:.2f}→{result['load'][1]:.2f} |\n"
    )
    with common.RESULTS.open("a") as f:
        f.write(row)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["both", "postgresql", "sqlite"], default="both")
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--events", type=int, default=100, help="events per writer per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    common.print_machine()
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    for kind in kinds:
        result = bench(kind, args.writers, args.events, args.rounds)
        med = statistics.median
        rates, latencies = result["rates"], result["latencies"]
        print(
            f"\n{kind}: with the chain {med(rates[True]):.0f} events/s, {med(latencies[True]):.2f} ms per "
            f"transaction; without {med(rates[False]):.0f} events/s, {med(latencies[False]):.2f} ms. "
            f"Per event: +{med(result['cost_ms']):.2f} ms of throughput time; transaction time × "
            f"{common.fmt_spread(result['ratio_latency'])}; throughput × "
            f"{common.fmt_spread(result['ratio_rate'])}. {result['linear']}. "
            f"Load average {result['load'][0]:.2f} → {result['load'][1]:.2f}.",
            flush=True,
        )
        if not args.no_record:
            _record(result, args.writers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
