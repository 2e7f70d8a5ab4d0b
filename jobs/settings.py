"""Settings for the console's workers: `rq worker -c jobs.settings -w jobs.worker.ConsoleWorker`
(add `--with-scheduler` for retries).

Imported once by the worker process: the Flask app is created here and warmed up (one synthetic report filed
in a rolled-back transaction, jobs/warmup.py), so that the first job finds SQLAlchemy's statements compiled.
ConsoleWorker (jobs/worker.py) runs every job in this process, so every job finds them, and the database
connections, ready; with RQ's forking Worker each work-horse inherits the warm app instead.
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
