"""Worker throughput: finished reports per second per worker vs a no-op RQ job, on the same Redis, in one run.

    .venv/bin/python bench/worker.py [--jobs 100] [--rounds 3] [--files 1]

Each round: N no-op jobs (bench.common.noop), then N reports (a case with --files images, one revealed),
each run by ONE `rq worker -c jobs.settings --burst` process (the production worker class, forking a
work-horse
per job) against the CyberTipline simulator with zero latency. Rates come from RQ's job timestamps (first
start to last end), so the worker's start-up is not counted. Target: reports/s ÷ no-op jobs/s ≥ 0.25.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.filing_setup import Filing, job_rate  # noqa: E402

TARGET = 0.25


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--db", default="console_bench_worker")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    common.print_machine()
    sim, sim_url, user, password = common.start_simulator()
    filing = None
    ratios, report_rates, noop_rates = [], [], []
    try:
        common.set_latency(sim_url, 0)
        filing = Filing(args.db, sim_url, user, password)
        for r in range(1, args.rounds + 1):
            jobs = [filing.rq.enqueue("bench.common.noop") for _ in range(args.jobs)]
            filing.worker(burst=True).wait(timeout=600)
            noop = job_rate(jobs)
            ids = [filing.make_report(args.files) for _ in range(args.jobs)]
            jobs = [filing.enqueue(i) for i in ids]
            filing.worker(burst=True).wait(timeout=900)
            states = {filing.state(i)[0] for i in ids}
            if states != {"finished"}:
                raise RuntimeError(f"reports not finished: {states}")
            reports = job_rate(jobs)
            noop_rates.append(noop)
            report_rates.append(reports)
            ratios.append(reports / noop)
            print(
                f"round {r}: no-op {noop:.1f} jobs/s; reports {reports:.1f}/s; ratio {reports / noop:.3f}",
                flush=True,
            )
    finally:
        if filing:
            filing.close()
        common.stop(sim)
    calls = 2 + 2 * args.files
    med = common.spread(ratios)[0]
    met = med >= TARGET
    print(
        f"\n{args.jobs} jobs per kind per round, {args.rounds} rounds, 1 forking worker, {calls} sim calls "
        f"per report (latency 0)"
    )
    print(f"no-op jobs/s:  {common.fmt_spread(noop_rates, 1)}")
    print(f"reports/s:     {common.fmt_spread(report_rates, 1)}")
    print(f"ratio:         {common.fmt_spread(ratios, 3)}; target ≥ {TARGET}: {'met' if met else 'NOT MET'}")
    if not args.no_record:
        common.append_results(
            [
                {
                    "figure": f"reports finished/s per worker ({args.files} file, simulator latency 0; "
                    f"median {common.spread(report_rates)[0]:.1f}/s)",
                    "reference": f"no-op RQ jobs (median {common.spread(noop_rates)[0]:.1f}/s)",
                    "ratios": ratios,
                    "target": f"≥ {TARGET}",
                    "met": met,
                }
            ]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
