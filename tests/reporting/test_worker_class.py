"""The production worker (jobs.worker.ConsoleWorker, no work-horse) and the pipeline reading a report once.

Real Redis, real `rq worker` processes, the simulator over real HTTP, the test's database.
"""

from __future__ import annotations

import subprocess
import time

from sqlalchemy import event

from console import tasks
from console.extensions import db
from console.reporting import lease, pipeline
from console.reporting.models import ExternalReport
from tests.reporting import fault_harness as fh
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_pipeline import make_report


def test_the_runner_the_harness_and_the_bench_start_the_same_worker_class():
    from pathlib import Path

    from bench.filing_setup import PRODUCTION_WORKER
    from jobs.worker import CLASS_PATH, ConsoleWorker

    root = Path(__file__).resolve().parents[2]
    assert CLASS_PATH == fh.WORKER_CLASS == PRODUCTION_WORKER == "jobs.worker.ConsoleWorker"
    assert f'"{CLASS_PATH}"' in (root / "console" / "runner.py").read_text()
    from rq.worker import SimpleWorker

    assert issubclass(ConsoleWorker, SimpleWorker)  # jobs run in the worker process: no fork per job


def test_a_console_worker_files_reports_in_its_own_process(ctx, ncmec_simulator):
    """Three reports through one real worker process: all finished exactly once, every job run by the worker
    process itself (a forking worker runs each in a new work-horse, with a new database connection)."""
    t = fh.make_reports(ctx, ncmec_simulator, 3, seed=41)
    pool = fh.Workers(ctx)
    fh.enqueue_all(t)
    queue = tasks.task_queue()
    pids = [queue.enqueue("os.getpid") for _ in range(2)]
    proc = pool.start()
    try:
        fh.run_until_finished(t, pool, deadline=time.monotonic() + 60, sweep_every=30, sweep_at_start=False)
        fh.check_oracle(t, ncmec_simulator)
        deadline = time.monotonic() + 30
        while any(job.get_status(refresh=True) != "finished" for job in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [job.return_value() for job in pids] == [proc.pid, proc.pid]
    finally:
        pool.stop_all()


def test_drive_reads_the_report_once_and_records_the_document_with_the_claim(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review, images=2)
    report_id = report.id
    db.session.rollback()
    reads, commits = [], []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM external_reports" in statement:
            reads.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    event.listen(db.session, "after_commit", lambda _s: commits.append(1))
    try:
        assert pipeline.drive(report_id) == "finished"
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # One read of the row by the pipeline (the claim's load); what the evidence and the hash bank read after
    # the finish is theirs.
    pipeline_reads = [s for s in reads if "external_reports.lease_owner" in s]
    assert len(pipeline_reads) == 1, pipeline_reads
    db.session.expire_all()
    row = db.session.get(ExternalReport, report_id)
    assert row.state == "finished" and row.lease_owner is None and row.attempts == 0
    received = ncmec_simulator.report(row.ncmec_report_id)
    assert row.report_xml == received["xml"]  # what was sent is what is on record
    assert all(f.fileinfo_sent and f.ncmec_file_id for f in row.files)


def test_the_document_is_on_record_before_the_submit_whose_answer_is_lost(ctx, fast, ncmec_simulator):
    """The claim's transaction writes the report XML: a submit that acts and then drops the connection
    still leaves what was sent on record (and the report is retried, never lost)."""
    _policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review, images=1)
    ncmec_simulator.set_fault("submit", "drop", times=1)
    assert pipeline.drive(report.id) == "submit_unknown"
    db.session.expire_all()
    row = db.session.get(ExternalReport, report.id)
    assert row.state == "submit_unknown" and row.report_xml and "<report" in row.report_xml
    assert row.lease_owner is None
    assert pipeline.drive(report.id) == "finished"
    assert len(ncmec_simulator.reports("finished")) == 1


def test_a_lost_claim_leaves_nothing_open(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    _c, report = make_report(rule, review, images=1)
    assert lease.claim(report.id, "someone-else")
    assert pipeline.drive(report.id) is None
    assert not db.session().in_transaction()  # the lost claim ended its transaction (SQLite: no lock held)
    db.session.rollback()
    assert db.session.get(ExternalReport, report.id).lease_owner == "someone-else"


def test_a_worker_started_by_the_runners_command_line_answers(ctx):
    """`rq worker -c jobs.settings -w jobs.worker.ConsoleWorker --burst` starts, warms up, exits cleanly."""
    cfg = ctx.config
    env = fh.Workers(ctx).env
    result = subprocess.run(
        [fh.RQ, "worker", "-c", "jobs.settings", "-w", fh.WORKER_CLASS, "--burst", "--url", cfg["REDIS_URL"]]
        + [cfg["RQ_QUEUE"]],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
