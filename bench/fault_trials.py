"""The larger randomized fault suite: many trials of reports filed by real production workers
(`rq worker -c jobs.settings -w jobs.worker.ConsoleWorker`, tests/reporting/fault_harness.py) under a storm of
CyberTipline faults (drop after acting, HTTP 500, 1xxx codes, timeouts) and SIGKILLs of workers.

    .venv/bin/python bench/fault_trials.py [TRIALS] [SEED]

Environment: FAULT_STORM_SECONDS (8), FAULT_KILL_EVERY (2.0 s; 0 = no SIGKILLs), FAULT_SWEEP_SECONDS (0.5;
set a production-like sweep interval, e.g. 20, to see whether retries run at their backoff or wait for the
sweep). Each trial prints filed_s (enqueue to all finished) and drain_s (end of the storm to all finished).

Each trial checks the oracle (every report finished exactly once at the simulator, none twice, none missing,
every uploaded file in a finished report). Uses DATABASE_URL / REDIS_URL like the tests when they are set.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    trials = sys.argv[1] if len(sys.argv) > 1 else "200"
    seed = sys.argv[2] if len(sys.argv) > 2 else "1000"
    env = {**os.environ, "FAULT_TRIALS": trials, "FAULT_SEED": seed}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-m",
        "slow",
        "--timeout",
        str(int(trials) * 120 + 300),
        "tests/reporting/test_fault_suite.py::test_randomized_fault_trials",
    ]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
