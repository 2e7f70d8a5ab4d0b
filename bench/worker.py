"""Worker throughput: reports per second vs no-op RQ jobs of the same worker class, and how filing scales
with workers — each measured in one run.

    .venv/bin/python bench/worker.py [--jobs 100] [--rounds 3] [--files 1] [--worker-class console|forking]
    .venv/bin/python bench/worker.py --scaling 1 2 4 --latency 50 [--per-worker 15] [--rounds 3]

Ratio (default): each round, N no-op jobs (bench.common.noop), then N reports (a case with --files images, one
revealed), each run by ONE `rq worker -c jobs.settings -w CLASS --burst` process against the CyberTipline
simulator with zero latency. CLASS is the production class (jobs.worker.ConsoleWorker, no fork) unless
`--worker-class forking` (RQ's Worker, a work-horse forked per job) is asked for; the no-op reference always
runs on the same class. Rates come from RQ's job timestamps (first start to last end), so the worker's
start-up is not counted. Target: reports/s ÷ no-op jobs/s ≥ 0.5.

Scaling (--scaling): with the simulator adding --latency ms to every call, each round runs 1, 2, 4 …
production workers, started and idle before the reports (--per-worker × workers of them, created
beforehand) are enqueued at once. Rate = reports finished per second from the jobs' timestamps.
Target: rate(n) ≥ 0.9 × n × rate(1) of the same round; the ratio recorded is rate(n) ÷ (n × rate(1)).
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

TARGET = 0.5
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
        noop_rates.append(noop)
        report_rates.append(reports)
        ratios.append(reports / noop)
        print(
            f"round {r}: no-op {noop:.1f} jobs/s; reports {reports:.1f}/s; ratio {reports / noop:.3f} "
            f"(load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return {"ratios": ratios, "reports": report_rates, "noop": noop_rates}


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
    parser.add_argument("--latency", type=int, default=None, help="ms per simulator call (scaling: 50)")
    parser.add_argument("--per-worker", type=int, default=15, help="scaling: reports per worker per run")
    parser.add_argument("--db", default="console_bench_worker")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    common.print_machine()
    latency = args.latency if args.latency is not None else (50 if args.scaling else 0)
    sim, sim_url, user, password = common.start_simulator()
    filing = None
    load_before = os.getloadavg()[0]
    try:
        common.set_latency(sim_url, latency)
        filing = Filing(args.db, sim_url, user, password)
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
