"""The periodic sweep, for `rq cron jobs/cron.py --url $REDIS_URL` (the runner starts it)."""

import os

from rq import cron

from jobs.reports import sweep

cron.register(
    sweep,
    queue_name=os.environ.get("RQ_QUEUE", "console"),
    interval=int(os.environ.get("SWEEP_INTERVAL_SECONDS", "30")),
)
