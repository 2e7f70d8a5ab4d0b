"""Worker throughput: reports per second vs no-op RQ jobs of the same worker class, and how filing scales
with workers — each measured in one run.

    .venv/bin/python bench/worker.py [--jobs 100] [--rounds 3] [--files 1] [--worker-class console|forking]
    .venv/bin/python bench/worker.py --scaling 1 2 4 [--latency 200] [--per-worker 15] [--rounds 3]
    .venv/bin/python bench/worker.py --profile [--jobs 100] [--files 1]

Ratio (default): each round, N no-op jobs (bench.common.noop), then N reports (a case with --files images, one
revealed), each run by ONE `rq worker -c jobs.settings -w CLASS --burst` process against the CyberTipline
simulator with zero latency. CLASS is the production class (jobs.worker.ConsoleWorker, no fork) unless
`--worker-class forking` (RQ's Worker, a work-horse forked per job) is asked for; the no-op reference always
runs on the same class. Rates come from RQ's job timestamps (first start to last end), so the worker's
start-up is not counted. Target (issue 27): reports/s ÷ no-op jobs/s ≥ 0.25.

Scaling (--scaling): with the simulator adding --latency ms to every call, each round runs 1, 2, 4 …
production workers, started and idle before the reports (--per-worker × workers of them, created
beforehand) are enqueued at once. Rate = reports finished per second from the jobs' timestamps.
Target: rate(n) ≥ 0.9 × n × rate(1) of the same round; the ratio recorded is rate(n) ÷ (n × rate(1)).

The reports' rate counts the filing jobs (first start to last end); what a finish sets going (evidence
preservation, hash banking: jobs of their own, console/reporting/follow_ups.py, in the follow-up queue the
worker takes from after the filing queue) is printed beside it as "with follow-ups": the same reports until
their last follow-up job ended.

Profile (--profile): the filing job in this process — `pipeline.drive` of --jobs reports against the simulator
(latency 0), after one to warm up — under cProfile: wall ms per report, SQL statements and commits per
report, the time by layer (psycopg and the server, SQLAlchemy, the HTTP client and the simulator's answers,
lxml and the XSD checks, the console's own code, …) and the pipeline's steps (cumulative). No RQ: a no-op
job's cost is the ratio's reference.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.filing_setup import FORKING_WORKER, PRODUCTION_WORKER, Filing, job_rate  # noqa: E402

TARGET = 0.25
SCALING_TARGET = 0.9
CLASSES = {"console": PRODUCTION_WORKER, "forking": FORKING_WORKER}


def ratio_rounds(filing: Filing, args, worker_class: str) -> dict:
    ratios, report_rates, noop_rates = [], [], []
    for r in range(1, args.rounds + 1):
        jobs = [filing.rq.enqueue("bench.common.noop") for _ in range(args.jobs)]
        filing.worker(burst=True, worker_class=worker_class).wait(timeout=600)
        noop = job_rate(jobs)
        ids = [filing.make_report(args.files) for _ in range(args.jobs)]
        jobs = [filing.enqueue(i) for i in ids]
        filing.worker(burst=True, worker_class=worker_class).wait(timeout=900)
        states = {filing.state(i)[0] for i in ids}
        if states != {"finished"}:
            raise RuntimeError(f"reports not finished: {states}")
        reports = job_rate(jobs)
        with_follow_ups = _rate_with_follow_ups(filing, jobs)
        noop_rates.append(noop)
        report_rates.append(reports)
        ratios.append(reports / noop)
        print(
            f"round {r}: no-op {noop:.1f} jobs/s; reports {reports:.1f}/s; ratio {reports / noop:.3f}; "
            f"with follow-ups {with_follow_ups:.1f}/s, ratio {with_follow_ups / noop:.3f} "
            f"(load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return {"ratios": ratios, "reports": report_rates, "noop": noop_rates}


def _queues(filing: Filing) -> list:
    """The filing queue and its follow-up queue (console/tasks.py), which the console's workers take too."""
    from rq import Queue

    from console import tasks

    return [filing.rq, Queue(tasks.follow_up_queue_name(filing.queue_name), connection=filing.redis)]


def _drain(filing: Filing, deadline: float) -> None:
    from rq.registry import StartedJobRegistry

    queues = _queues(filing)
    started = [StartedJobRegistry(queue=q) for q in queues]
    while time.monotonic() < deadline and (any(q.count for q in queues) or any(r.count for r in started)):
        time.sleep(0.2)


def _rate_with_follow_ups(filing: Filing, jobs) -> float:
    """Reports per second from the first filing job's start to the end of the last job the burst ran (the
    follow-ups queued behind the filings), from RQ's finished registry."""
    from rq.job import Job
    from rq.registry import FinishedJobRegistry

    registries = [FinishedJobRegistry(queue=q) for q in _queues(filing)]
    ids = [job_id for registry in registries for job_id in registry.get_job_ids()]
    ended = [j.ended_at for j in Job.fetch_many(ids, connection=filing.redis) if j]
    for job in jobs:
        job.refresh()
    start = min(j.started_at for j in jobs)
    end = max([*ended, *(j.ended_at for j in jobs)])
    for registry in registries:
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    return len(jobs) / max((end - start).total_seconds(), 1e-6)


# Where the filing job's time goes: each profiled function's own time is charged to the layer of its file; a C
# builtin (socket reads, the driver's waits) to its callers' layers, in proportion.
LAYERS = [
    ("psycopg + PostgreSQL round trips", ("psycopg/", "psycopg_binary", "psycopg_pool")),
    ("SQLAlchemy (ORM, compilation, rows)", ("sqlalchemy/", "flask_sqlalchemy/")),
    ("HTTP client + the simulator's answers", ("requests/", "urllib3/", "http/client", "socket.py")),
    ("lxml, XSD checks", ("lxml/", "console/ncmec/schema", "xmlschema/")),
    ("Redis + RQ (enqueues)", ("redis/", "/rq/")),
    ("the console's own code", ("/console/", "/jobs/")),
]


def _breakdown(stats) -> dict[str, float]:
    return common.time_by_layer(stats, LAYERS, "other (stdlib: json, hashlib, uuid, logging …)")


STEPS = (
    ("pipeline.py", "drive"),
    ("lease.py", "claim"),
    ("pipeline.py", "_load_claimed"),
    ("platform.py", "prepare"),
    ("pipeline.py", "_submit"),
    ("pipeline.py", "_send_file"),
    ("pipeline.py", "_record_file"),
    ("pipeline.py", "_finish"),
    ("preservation.py", "note_finished"),
    ("follow_ups.py", "promise"),
    ("tasks.py", "enqueue"),
    ("documents.py", "report_document"),
    ("documents.py", "file_document"),
    ("client.py", "submit"),
    ("client.py", "upload"),
    ("client.py", "fileinfo"),
    ("client.py", "finish"),
    ("audit.py", "record"),
    ("session.py", "commit"),
)


def profile(filing: Filing, args) -> None:
    """The filing job in-process under cProfile (see the module's docstring)."""
    import cProfile
    import pstats
    import time as clock

    from sqlalchemy import event

    from console.extensions import db
    from console.reporting import pipeline

    warm = filing.make_report(args.files)
    pipeline.drive(warm)
    ids = [filing.make_report(args.files) for _ in range(args.jobs)]
    db.session.rollback()
    counts = {"statements": 0, "commits": 0}

    def on_execute(*_a, **_kw):
        counts["statements"] += 1

    def on_commit(*_a, **_kw):
        counts["commits"] += 1

    event.listen(db.engine, "before_cursor_execute", on_execute)
    event.listen(db.engine, "commit", on_commit)
    # Unprofiled first: the wall time per report as the worker spends it.
    half = len(ids) // 2
    t0 = clock.perf_counter()
    for report_id in ids[:half]:
        assert pipeline.drive(report_id) == "finished"
    wall = (clock.perf_counter() - t0) / max(half, 1) * 1000
    statements, commits = counts["statements"] / max(half, 1), counts["commits"] / max(half, 1)
    prof = cProfile.Profile()
    prof.enable()
    for report_id in ids[half:]:
        assert pipeline.drive(report_id) == "finished"
    prof.disable()
    event.remove(db.engine, "before_cursor_execute", on_execute)
    event.remove(db.engine, "commit", on_commit)
    n = len(ids) - half
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())
    print(
        f"\nfiling job in-process, {half} reports unprofiled: {wall:.1f} ms per report wall, "
        f"{statements:.0f} SQL statements and {commits:.0f} commits per report "
        f"(load {os.getloadavg()[0]:.1f})"
    )
    print(f"profiled, {n} reports: {total / n * 1000:.1f} ms per report of profiled time, by layer:")
    for layer, seconds in sorted(_breakdown(stats).items(), key=lambda kv: -kv[1]):
        print(f"  {seconds / n * 1000:6.2f} ms  {seconds / total:5.1%}  {layer}")
    print("steps (cumulative ms per report, calls per report):")
    for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in sorted(
        stats.stats.items(), key=lambda kv: -kv[1][3]
    ):
        if any(filename.endswith(f) and name == fn for f, fn in STEPS):
            print(f"  {ct / n * 1000:6.2f} ms  ×{nc / n:4.1f}  {Path(filename).name}:{name}")
    if args.profile_out:
        stats.dump_stats(args.profile_out)
        print(f"cProfile data: {args.profile_out}")


def _wait_for_workers(filing: Filing, n: int, procs, timeout: float = 120) -> None:
    from rq import Worker

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a worker exited before it was ready")
        if Worker.count(queue=filing.rq) >= n:
            return
        time.sleep(0.1)
    raise TimeoutError(f"{n} workers not ready after {timeout} s")


def scaling_rounds(filing: Filing, args) -> dict[int, dict]:
    counts = args.scaling
    rates: dict[int, list[float]] = {n: [] for n in counts}
    for r in range(1, args.rounds + 1):
        line = []
        for n in counts:
            ids = [filing.make_report(args.files) for _ in range(args.per_worker * n)]
            procs = [filing.worker(burst=False, worker_class=PRODUCTION_WORKER) for _ in range(n)]
            try:
                _wait_for_workers(filing, n, procs)
                jobs = [filing.enqueue(i) for i in ids]
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    if all(j.get_status(refresh=True) in ("finished", "failed") for j in jobs):
                        break
                    time.sleep(0.2)
                _drain(filing, deadline)  # the follow-ups queued behind them: not into the next round
            finally:
                for p in procs:
                    common.stop(p)
            states = {filing.state(i)[0] for i in ids}
            if states != {"finished"}:
                raise RuntimeError(f"reports not finished: {states}")
            rates[n].append(job_rate(jobs))
            line.append(f"{n} worker(s) {rates[n][-1]:.2f}/s")
        base = rates[counts[0]][-1] / counts[0]
        scaled = ", ".join(f"×{n}: {rates[n][-1] / (n * base):.2f}" for n in counts[1:])
        print(
            f"round {r}: " + "; ".join(line) + f" — rate ÷ (n × one-worker rate) {scaled} "
            f"(load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--worker-class", choices=sorted(CLASSES), default="console")
    parser.add_argument("--scaling", type=int, nargs="+", help="worker counts: 1 2 4 (first = base)")
    parser.add_argument("--latency", type=int, default=None, help="ms per simulator call (scaling: 200)")
    parser.add_argument("--per-worker", type=int, default=15, help="scaling: reports per worker per run")
    parser.add_argument("--profile", action="store_true", help="the filing job in-process under cProfile")
    parser.add_argument("--profile-out", help="--profile: also write the cProfile data here")
    parser.add_argument("--db", default="console_bench_worker")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    common.print_machine()
    latency = args.latency if args.latency is not None else (200 if args.scaling else 0)
    sim, sim_url, user, password = common.start_simulator()
    filing = None
    load_before = os.getloadavg()[0]
    try:
        common.set_latency(sim_url, latency)
        filing = Filing(args.db, sim_url, user, password)
        if args.profile:
            profile(filing, args)
            return 0
        if args.scaling:
            result = scaling_rounds(filing, args)
        else:
            result = ratio_rounds(filing, args, CLASSES[args.worker_class])
    finally:
        if filing:
            filing.close()
        common.stop(sim)
    load = f"load {load_before:.1f} → {os.getloadavg()[0]:.1f} on {common.machine()['nproc']} cores"
    calls = 2 + 2 * args.files
    rows = []
    if args.scaling:
        counts = args.scaling
        base_rates = result[counts[0]]
        print(
            f"\n{args.per_worker} reports per worker, {args.rounds} rounds, simulator +{latency:g} ms per "
            f"call ({calls} calls per report), production worker class {PRODUCTION_WORKER}; {load}"
        )
        for n in counts:
            print(f"{n} worker(s): reports/s {common.fmt_spread(result[n], 2)}")
        verdicts = []
        for n in counts[1:]:
            ratios = [rate / (n / counts[0] * base) for rate, base in zip(result[n], base_rates, strict=True)]
            met = common.spread(ratios)[0] >= SCALING_TARGET
            verdicts.append(met)
            print(
                f"TARGET scaling ×{n}: rate ÷ ({n} × one-worker rate) {common.fmt_spread(ratios, 2)}; "
                f"target ≥ {SCALING_TARGET}: {'MET' if met else 'NOT MET'}"
            )
            rows.append(
                {
                    "figure": f"filing rate with {n} workers (sim +{latency:g} ms/call, {args.files} file; "
                    f"median {common.spread(result[n])[0]:.2f}/s)",
                    "reference": f"{n} × the one-worker rate (median {common.spread(base_rates)[0]:.2f}/s)",
                    "ratios": ratios,
                    "target": f"≥ {SCALING_TARGET}",
                    "met": met,
                }
            )
    else:
        worker_class = CLASSES[args.worker_class]
        med = common.spread(result["ratios"])[0]
        met = med >= TARGET
        print(
            f"\n{args.jobs} jobs per kind per round, {args.rounds} rounds, 1 worker of class {worker_class}, "
            f"{calls} sim calls per report (latency {latency:g}); {load}"
        )
        print(f"no-op jobs/s:  {common.fmt_spread(result['noop'], 1)}")
        print(f"reports/s:     {common.fmt_spread(result['reports'], 1)}")
        print(
            f"TARGET worker: ratio {common.fmt_spread(result['ratios'], 3)}; target ≥ {TARGET}: "
            f"{'MET' if met else 'NOT MET'}"
        )
        rows.append(
            {
                "figure": f"reports finished/s, 1 worker {worker_class} ({args.files} file, simulator "
                f"latency {latency:g}; median {common.spread(result['reports'])[0]:.1f}/s)",
                "reference": f"no-op RQ jobs, same class (median {common.spread(result['noop'])[0]:.1f}/s)",
                "ratios": result["ratios"],
                "target": f"≥ {TARGET}",
                "met": met,
            }
        )
    if not args.no_record:
        common.append_results(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
