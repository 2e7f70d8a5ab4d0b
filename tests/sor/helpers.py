"""Running the send jobs with a real RQ worker in this process, and reading what the console stored."""

from __future__ import annotations

from sqlalchemy import select

import jobs
from console import tasks
from console.extensions import db
from console.sor.models import StatementOfReasons
from jobs.worker import ConsoleWorker


def run_jobs(app) -> None:
    """A real RQ worker in burst mode, in this process, against the test app (scheduled retries excluded)."""
    db.session.commit()  # SQLite: the worker's writes need the lock this session would hold
    jobs.use_app(app)
    ConsoleWorker([tasks.task_queue()], connection=tasks.redis_connection()).work(burst=True)
    db.session.expire_all()


def statements() -> list[StatementOfReasons]:
    db.session.expire_all()
    rows = list(db.session.scalars(select(StatementOfReasons).order_by(StatementOfReasons.id)))
    db.session.rollback()
    return rows


def one(case_id: int) -> StatementOfReasons | None:
    db.session.expire_all()
    row = db.session.scalar(select(StatementOfReasons).where(StatementOfReasons.case_id == case_id))
    return row
