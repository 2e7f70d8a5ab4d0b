"""Settings for the standard worker: `rq worker -c jobs.settings` (add `--with-scheduler` for retries).

Imported once by the worker's main process, before it forks a work-horse per job: creating the Flask app
here means each job starts with it ready instead of building it again in every fork.
"""

import os

import jobs

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUES = [os.environ.get("RQ_QUEUE", "console")]

app = jobs.app()
with app.app_context():
    from console.extensions import db
    from jobs.warmup import warm_up

    warm_up()
    db.session.remove()
