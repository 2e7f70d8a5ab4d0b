"""Worker memory over many reports: RSS of a SimpleWorker process (no fork: the honest leak test) and of a
forking worker's main process, at 10 %, 50 % and 100 % of --reports (1k, 5k, 10k by default).

    .venv/bin/python bench/memory.py [--reports 10000] [--batch 200]

Reports are created and enqueued in batches while both workers run (the simulator at zero latency); the RSS is
read from /proc/<pid>/status once each checkpoint's reports are all finished. Target: flat within ±10 % of the
first checkpoint. --reports may be lowered for a quick run; record the full run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.filing_setup import Filing  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--db", default="console_bench_memory")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    common.print_machine()
    checkpoints = sorted({max(1, args.reports // 10), max(1, args.reports // 2), args.reports})
    sim, sim_url, user, password = common.start_simulator()
    filing = simple = forking = None
    rss: dict[str, list[int]] = {"SimpleWorker": [], "Worker (main process)": []}
    try:
        common.set_latency(sim_url, 0)
        filing = Filing(args.db, sim_url, user, password)
        simple = filing.worker(burst=False, simple=True)
        forking = filing.worker(burst=False)
        made: list[int] = []
        for target in checkpoints:
            while len(made) < target:
                batch = [filing.make_report(1) for _ in range(min(args.batch, target - len(made)))]
                for rid in batch:
                    filing.enqueue(rid)
                made += batch
            deadline = time.monotonic() + 3600
            while time.monotonic() < deadline and any(filing.state(r)[0] != "finished" for r in made[-20:]):
                time.sleep(0.5)
            while filing.rq.count and time.monotonic() < deadline:
                time.sleep(0.5)
            time.sleep(1)
            rss["SimpleWorker"].append(common.rss_kb(simple.pid))
            rss["Worker (main process)"].append(common.rss_kb(forking.pid))
            print(
                f"{target} reports: SimpleWorker RSS {rss['SimpleWorker'][-1] / 1024:.1f} MB; "
                f"forking worker main RSS {rss['Worker (main process)'][-1] / 1024:.1f} MB",
                flush=True,
            )
    finally:
        for proc in (simple, forking):
            if proc:
                common.stop(proc)
        if filing:
            filing.close()
        common.stop(sim)
    rows = []
    for name, values in rss.items():
        ratios = [v / values[0] for v in values]
        met = all(0.9 <= r <= 1.1 for r in ratios)
        print(
            f"{name}: RSS at {checkpoints} = {[round(v / 1024, 1) for v in values]} MB; ratio to first "
            f"{[round(r, 3) for r in ratios]}: {'flat (met)' if met else 'NOT flat'}"
        )
        rows.append(
            {
                "figure": f"{name} RSS at {'/'.join(map(str, checkpoints))} reports "
                f"({values[-1] / 1024:.0f} MB at the end)",
                "reference": f"its RSS at {checkpoints[0]} reports ({values[0] / 1024:.0f} MB)",
                "ratios": ratios,
                "target": "within 0.90–1.10",
                "met": met,
            }
        )
    if not args.no_record:
        common.append_results(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
