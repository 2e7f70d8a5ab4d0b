"""The long version of tests/infra: trials of every infrastructure fault against the whole console on parts of
its own (a PostgreSQL cluster from initdb, a redis-server, a small tmpfs for media and evidence, gunicorn,
two production workers, rq cron, the simulator, a webhook receiver), filing continuously over HTTP.

    .venv/bin/python bench/infra_faults.py [TRIALS] [KINDS]

TRIALS per kind (3); KINDS comma-separated, default all: postgres-fast, postgres-immediate, redis-empty,
redis-aof, full-disk, ncmec-unreachable, sigterm-workers. INFRA_NCMEC_DOWN_SECONDS (15) is how long NCMEC
refuses connections (a day in the compressed settings of tests/infra/stack.py: backoff 0.2–2 s).

Prints each trial, then one line `INFRA FAULT TRIALS: {json}` with, per kind, the trials, the faults survived,
the recovery time (median, max: from the part's return until every report acknowledged by then is finished;
for SIGTERM, a worker's time to exit) and the violations of the oracle (tests/infra/trial.py). Needs root (the
mount; initdb runs as postgres through runuser).
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env = {**os.environ, "INFRA_TRIALS": sys.argv[1] if len(sys.argv) > 1 else "3"}
    if len(sys.argv) > 2:
        env["INFRA_KINDS"] = sys.argv[2]
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
        "tests/infra/test_infra_faults.py::test_infra_fault_trials",
    ]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
