"""A worker's main process warms up by filing one synthetic report that leaves no trace."""

from console.audit import AuditEvent
from console.cases.models import Case
from console.extensions import db
from console.queues.models import Queue
from console.reporting.models import ExternalReport
from jobs.warmup import warm_up


def test_warm_up_files_a_synthetic_report_and_leaves_no_trace(ctx):
    assert warm_up() == "finished"
    db.session.rollback()
    for model in (Queue, Case, ExternalReport, AuditEvent):
        assert db.session.scalar(db.select(db.func.count()).select_from(model)) == 0, model
