"""Jobs on Redis: what one console enqueues stays its own when another shares the Redis server."""

from __future__ import annotations

from rq.job import Job

from console import create_app, tasks
from tests.conftest import _config


def test_two_consoles_on_one_redis_keep_their_own_job_of_the_same_fixed_id(app, tmp_path):
    """Staging beside production (or two test workers) on one Redis, each with its own RQ_QUEUE: the same
    fixed job id (a preview of media 7 in each database) is two jobs; emptying one queue keeps the other's."""
    other = create_app(_config(app.config["SQLALCHEMY_DATABASE_URI"], app.config["REDIS_URL"], tmp_path))
    other.config["RQ_QUEUE"] = app.config["RQ_QUEUE"] + "-other"
    for console, note in ((app, "ours"), (other, "theirs")):
        with console.app_context():
            tasks.task_queue().empty()
            assert tasks.enqueue("jobs.media.make_preview", 7, note, job_id="preview-7")

    with app.app_context():
        ours = tasks.task_queue()
        [job] = ours.jobs
        assert (job.origin, job.args) == (ours.name, (7, "ours"))
    with other.app_context():
        theirs = tasks.task_queue()
        theirs.empty()
    with app.app_context():
        [job] = tasks.task_queue().jobs
        assert job.args == (7, "ours")
        assert Job.exists(job.id, connection=tasks.redis_connection())
        tasks.task_queue().empty()
