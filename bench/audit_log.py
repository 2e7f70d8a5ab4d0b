"""The audit log as a transparency log: its cost to writers, whether sealing keeps up, how long verify takes.

    .venv/bin/python bench/audit_log.py [--phases throughput,sealing,verify] [--writers 20] [--events 100]
        [--rounds 5] [--rate 1000] [--seconds 20] [--verify-events 1000000] [--verify-rounds 3] [--no-record]

PostgreSQL (`console_bench_auditlog`, created and replaced at BENCH_PG), migrated to all heads; one signing
key for every process (AUDIT_SIGNING_KEY, generated per run).

1. throughput — `--writers` processes (own app, own connection, as gunicorn and rq workers are), each writing
   `--events` audit events, one per transaction (`audit.record` then commit: the console's shape). Each round
   runs them twice in alternating order: *with the log* (the content hash computed at INSERT, and a sealer
   process sealing every second as `rq cron` does) and *without* (`audit.hashing` off: the same INSERT with an
   empty hash, no sealer; those events are deleted after the run). Figure: events/s with ÷ without.
2. sealing — (a) capacity: a backlog of unsealed events (`--backlog`) sealed by `sealer.seal()`, events/s;
   (b) live: writer processes paced to `--rate` events/s in total (10 events per transaction, so that this
   2-core machine can write that fast at all) for `--seconds`, the sealer every second; the unsealed tail
   (count, age of its oldest event) sampled every 0.25 s. Keeps up = the oldest unsealed event never older
   than 3 s, and the tail empty 2 s after the writers stop.
3. verify — `--verify-events` events COPYed in (content hashes computed as `audit.values` does), sealed with
   `flask audit seal` (timed: sealing at scale), then `flask audit verify` timed `--verify-rounds` times.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

DB_NAME = "console_bench_auditlog"


def _environment() -> dict:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode()
    env = common.console_env(
        DB_NAME, f"bench-{os.getpid()}", tempfile.mkdtemp(prefix="bench-auditlog-"), AUDIT_SIGNING_KEY=key
    )
    common.create_database(DB_NAME, replace=True)
    common.migrate(env)
    common.use_env(env)
    os.environ["AUDIT_SIGNING_KEY"] = key
    return env


def _app():
    from console import create_app

    return create_app()


def _sql(statement: str, params: tuple = ()) -> list:
    import psycopg

    with psycopg.connect(common.db_url(DB_NAME), autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def _tail() -> tuple[int, float]:
    count, oldest = _sql(
        "SELECT count(*), extract(epoch FROM now() - min(at)) FROM audit_events WHERE log_index IS NULL"
    )[0]
    return count, float(oldest or 0.0)


# --- processes ----------------------------------------------------------------------------------------------


def _writer(n: int, events: int, hashed: bool, per_tx: int, pace: float, start, results) -> None:
    from console import audit
    from console.extensions import db

    audit.hashing = hashed
    app = _app()
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))  # connected before the start
        db.session.rollback()
        start.wait()
        durations, began = [], time.perf_counter()
        for i in range(0, events, per_tx):
            t0 = time.perf_counter()
            for j in range(i, min(i + per_tx, events)):
                audit.record("bench_event", "case", j, actor_label=f"bench writer {n}", n=j, hashed=hashed)
            db.session.commit()
            durations.append(time.perf_counter() - t0)
            if pace:  # keep to the rate: this writer's i-th event is due at i / rate
                ahead = began + (i + per_tx) / pace - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
        results.put((n, durations))
        db.session.remove()
        db.engine.dispose()


def _sealer_loop(stop, results, interval: float = 1.0) -> None:
    """As `rq cron` runs jobs.evidence.seal_audit_log: every `interval` seconds, seal what is there."""
    from console.evidence import sealer
    from console.extensions import db

    app = _app()
    sealed, busy = 0, 0.0
    with app.app_context():
        next_run = time.monotonic()
        while not stop.is_set():
            t0 = time.perf_counter()
            sealed += sealer.seal()
            busy += time.perf_counter() - t0
            next_run += interval
            stop.wait(max(0.0, next_run - time.monotonic()))
        sealed += sealer.seal()
        db.engine.dispose()
    results.put(("sealer", sealed, busy))


def _run_writers(writers: int, events: int, hashed: bool, per_tx: int = 1, pace: float = 0.0, sample=None):
    ctx = mp.get_context("fork")
    start, results = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(n, events, hashed, per_tx, pace, start, results))
        for n in range(writers)
    ]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    durations = []
    samples = []
    done = 0
    while done < writers:
        try:
            _n, d = results.get(timeout=0.25)
        except Exception:  # queue.Empty: sample the tail meanwhile
            if sample:
                samples.append(sample())
            continue
        durations.extend(d)
        done += 1
    wall = time.perf_counter() - began
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise RuntimeError(f"writer exited with {p.exitcode}")
    return writers * events / wall, statistics.mean(durations) * 1000, samples


def _start_sealer():
    ctx = mp.get_context("fork")
    stop, results = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_sealer_loop, args=(stop, results))
    proc.start()
    return proc, stop, results


def _stop_sealer(proc, stop, results) -> tuple[int, float]:
    stop.set()
    _kind, sealed, busy = results.get(timeout=120)
    proc.join(30)
    return sealed, busy


# --- phases -------------------------------------------------------------------------------------------------


def throughput(writers: int, events: int, rounds: int) -> dict:
    load = os.getloadavg()[0]
    rates, latencies, tails = {True: [], False: []}, {True: [], False: []}, []
    for r in range(rounds):
        for logged in (True, False) if r % 2 == 0 else (False, True):
            sealer = _start_sealer() if logged else None
            rate, ms, _ = _run_writers(writers, events, logged)
            if sealer:
                tails.append(_tail()[0])
                _stop_sealer(*sealer)
            else:
                _sql("DELETE FROM audit_events WHERE log_index IS NULL AND content_hash = ''")
            rates[logged].append(rate)
            latencies[logged].append(ms)
            print(
                f"round {r + 1} {'with the log' if logged else 'without    '}: {rate:.0f} events/s, "
                f"{ms:.2f} ms per transaction",
                flush=True,
            )
    ratio = [a / b for a, b in zip(rates[True], rates[False], strict=True)]
    return {
        "rates": rates,
        "latencies": latencies,
        "ratio": ratio,
        "tails": tails,
        "load": (load, os.getloadavg()[0]),
    }


def _copy_events(count: int, start_at: datetime) -> float:
    """COPY `count` events in, each with its content hash as the console computes it; returns seconds."""
    import psycopg

    from console import audit

    began = time.perf_counter()
    with psycopg.connect(common.db_url(DB_NAME)) as conn, conn.cursor() as cursor:
        columns = (
            "at",
            "actor_id",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "case_id",
            "details",
        )
        with cursor.copy(f"COPY audit_events ({', '.join(columns)}, content_hash) FROM STDIN") as copy:
            for i in range(count):
                details = {"n": i, "reason": "bench", "ip": f"10.0.{i % 256}.{i // 256 % 256}"}
                row = {
                    "at": start_at + timedelta(microseconds=i * 37),
                    "actor_id": None,
                    "actor_label": f"api:bench-{i % 50}",
                    "action": ("case_opened", "case_decided", "media_revealed")[i % 3],
                    "object_type": "case",
                    "object_id": str(i),
                    "case_id": None,
                    "details": details,
                }
                details_text = audit.canonical_json(details)  # as the console stores them
                copy.write_row([*(row[c] for c in columns[:-1]), details_text, audit.content_hash(row)])
        conn.commit()
    return time.perf_counter() - began


def sealing(rate: float, seconds: float, backlog: int) -> dict:
    from console.evidence import sealer
    from console.extensions import db

    load = os.getloadavg()[0]
    _copy_events(backlog, datetime.now(UTC))
    app = _app()
    with app.app_context():
        began = time.perf_counter()
        sealed = sealer.seal(max_seconds=float("inf"))
        capacity = sealed / (time.perf_counter() - began)
        db.engine.dispose()
    print(
        f"sealing capacity: {sealed} events in batches of {sealer.BATCH}: {capacity:.0f} events/s", flush=True
    )
    writers = 10
    proc = _start_sealer()
    per_writer = int(rate * seconds / writers)
    achieved, _ms, samples = _run_writers(
        writers, per_writer, True, per_tx=10, pace=rate / writers, sample=_tail
    )
    time.sleep(2.0)
    after = _tail()
    sealed_live, busy = _stop_sealer(*proc)
    max_count = max((c for c, _a in samples), default=0)
    max_age = max((a for _c, a in samples), default=0.0)
    print(
        f"live: {achieved:.0f} events/s written for {seconds:.0f} s; unsealed tail at most {max_count} "
        f"events, its oldest at most {max_age:.2f} s old; 2 s after the writers: {after[0]} unsealed; "
        f"the sealer was busy {busy:.1f} s of {seconds:.0f} ({sealed_live} events)",
        flush=True,
    )
    return {
        "capacity": capacity,
        "achieved": achieved,
        "max_count": max_count,
        "max_age": max_age,
        "after": after[0],
        "busy": busy,
        "keeps_up": max_age <= 3.0 and after[0] == 0,
        "load": (load, os.getloadavg()[0]),
    }


def verify(events: int, rounds: int, env: dict) -> dict:
    load = os.getloadavg()[0]
    _sql("TRUNCATE audit_events, audit_log_nodes, audit_log_checkpoints, audit_log_verifications CASCADE")
    copy_seconds = _copy_events(events, datetime(2026, 1, 1, tzinfo=UTC))
    _sql("VACUUM ANALYZE audit_events")
    flask = [str(common.VENV_BIN / "flask"), "--app", "wsgi", "audit"]
    began = time.perf_counter()
    sealed = subprocess.run(
        [*flask, "seal"], cwd=common.ROOT, env=env, capture_output=True, text=True, check=True
    )
    seal_seconds = time.perf_counter() - began
    print(f"{events} events: COPY {copy_seconds:.1f} s; `flask audit seal` {seal_seconds:.1f} s", flush=True)
    print("  " + sealed.stdout.strip(), flush=True)
    durations = []
    for r in range(rounds):
        began = time.perf_counter()
        out = subprocess.run([*flask, "verify"], cwd=common.ROOT, env=env, capture_output=True, text=True)
        durations.append(time.perf_counter() - began)
        print(f"  verify round {r + 1}: {durations[-1]:.1f} s, exit {out.returncode}: {out.stdout.strip()}")
        if out.returncode != 0:
            raise RuntimeError(out.stdout + out.stderr)
    return {
        "events": events,
        "seal_seconds": seal_seconds,
        "durations": durations,
        "load": (load, os.getloadavg()[0]),
    }


def _record(rows: list[str]) -> None:
    with common.RESULTS.open("a") as f:
        f.writelines(rows)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--phases", default="throughput,sealing,verify")
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--events", type=int, default=100, help="events per writer per run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--verify-rounds", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    phases = set(args.phases.split(","))
    common.print_machine()
    env = _environment()
    # Loaded once here, before the writers and the sealer are forked: they start in a moment, not each
    # importing the console on a 2-core machine.
    import console.evidence.sealer  # noqa: F401
    import console.models  # noqa: F401

    when, machine = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), common.machine_label()
    rows = []
    if "throughput" in phases:
        t = throughput(args.writers, args.events, args.rounds)
        med = statistics.median
        line = (
            f"throughput at {args.writers} writers: with the log {med(t['rates'][True]):.0f} events/s, "
            f"without {med(t['rates'][False]):.0f}; ratio {common.fmt_spread(t['ratio'])} ("
            f"unsealed when the writers ended: {t['tails']}); load {t['load'][0]:.1f} → {t['load'][1]:.1f}"
        )
        print("\nTARGET ≥ 0.9×: " + line, flush=True)
        rows.append(
            f"| audit log: events/s with ÷ without, {args.writers} writers, one event per transaction, "
            f"sealer every second (PostgreSQL) | {med(t['rates'][True]):.0f} vs "
            f"{med(t['rates'][False]):.0f} events/s | {common.fmt_spread(t['ratio'])} | ≥ 0.9 | "
            f"{'met' if med(t['ratio']) >= 0.9 else 'NOT met'} | {when} | {machine}, load "
            f"{t['load'][0]:.1f}→{t['load'][1]:.1f} |\n"
        )
    if "sealing" in phases:
        s = sealing(args.rate, args.seconds, args.backlog)
        met = s["keeps_up"] and s["capacity"] >= args.rate
        print(
            f"\nTARGET keeps up with {args.rate:.0f} events/s: capacity {s['capacity']:.0f} events/s; live "
            f"{s['achieved']:.0f} events/s, tail ≤ {s['max_count']} events / {s['max_age']:.2f} s: "
            f"{'met' if met else 'NOT met'}; "
            f"load {s['load'][0]:.1f} → {s['load'][1]:.1f}",
            flush=True,
        )
        rows.append(
            f"| audit log sealing: capacity on a {args.backlog}-event backlog; live at {args.rate:.0f} "
            f"events/s (PostgreSQL) | {s['capacity']:.0f} events/s; live {s['achieved']:.0f}/s, tail ≤ "
            f"{s['max_count']} events, oldest ≤ {s['max_age']:.2f} s, {s['after']} left 2 s after | — | "
            f"keeps up with {args.rate:.0f}/s | {'met' if met else 'NOT met'} | "
            f"{when} | {machine}, load {s['load'][0]:.1f}→{s['load'][1]:.1f} |\n"
        )
    if "verify" in phases:
        v = verify(args.verify_events, args.verify_rounds, env)
        print(
            f"\nTARGET ≤ 60 s: `flask audit verify` of {v['events']} events "
            f"{common.fmt_spread(v['durations'], 1)} s; sealing them {v['seal_seconds']:.1f} s "
            f"({v['events'] / v['seal_seconds']:.0f} events/s); load {v['load'][0]:.1f} → {v['load'][1]:.1f}",
            flush=True,
        )
        rows.append(
            f"| `flask audit verify` of {v['events']} sealed events (PostgreSQL); `flask audit seal` of "
            "them | "
            f"{common.fmt_spread(v['durations'], 1)} s; seal {v['seal_seconds']:.1f} s | — | ≤ 60 s | "
            f"{'met' if statistics.median(v['durations']) <= 60 else 'NOT met'} | {when} | {machine}, load "
            f"{v['load'][0]:.1f}→{v['load'][1]:.1f} |\n"
        )
    if not args.no_record:
        _record(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
