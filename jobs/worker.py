"""The console's RQ worker class: `rq worker -c jobs.settings -w jobs.worker.ConsoleWorker …`.

It runs each job in the worker process itself, as RQ's SimpleWorker does, instead of forking a work-horse per
job. What that keeps from one job to the next: the Flask app (built once by jobs/settings.py, warmed up by
jobs/warmup.py), SQLAlchemy's compiled statements and its pool of database connections. A forking worker pays
for a fork, a fresh PostgreSQL connection and the copy-on-write of every page the job touches, on every job.

Crash safety never rested on the fork: a report is driven only under its row's lease (console/reporting/
lease.py), every NCMEC id is committed before the next call (pipeline.py), and the sweep (sweep.py)
re-enqueues whatever nobody drives. A worker killed mid-job — SIGKILL, a lost machine, a crash in a C
extension — leaves its report with a lease that expires and a job the sweep replaces, exactly as a killed
work-horse did; tests/reporting/test_fault_suite.py and bench/fault_trials.py run with this class.

What a forking worker isolated and this one does not: memory a job leaks stays in the process (bench/memory.py
measures a non-forking worker's RSS over 10,000 reports: flat), and a job's timeout is RQ's SIGALRM in the
worker process itself (the same death penalty the work-horse used). Job code gets its app context from
jobs.app_context() in either class.
"""

from __future__ import annotations

import redis
from rq import worker_registration
from rq.worker import SimpleWorker

from console import logs, tasks

CLASS_PATH = "jobs.worker.ConsoleWorker"


class ConsoleWorker(SimpleWorker):
    """No work-horse: jobs run in this process, reusing its app and database connections.

    It also takes the follow-ups of finished reports (console/tasks.py, `follow_up_queue_name`), from each
    queue's follow-up queue, after every queue it was given: filing first, whatever command started it.
    """

    def __init__(self, queues, *args, **kwargs):
        super().__init__(queues, *args, **kwargs)
        names = [q.name for q in self.queues]
        for name in list(names):
            follow_ups = tasks.follow_up_queue_name(name)
            if not name.endswith(tasks.FOLLOW_UP_QUEUE_SUFFIX) and follow_ups not in names:
                names.append(follow_ups)
                options = {"job_class": self.job_class, "serializer": self.serializer}
                self.queues.append(self.queue_class(follow_ups, connection=self.connection, **options))
        self._ordered_queues = self.queues[:]

    def execute_job(self, job, queue):
        # The job's request id (console/logs.py) on RQ's own lines for it too ("Successfully completed",
        # "Job OK", a failure's traceback), not only on the job's: one id greps a report from the click on.
        request_id = logs.sane_request_id(job.meta.get("request_id")) or logs.new_request_id()
        tokens = logs.bind(request_id, job.id)
        try:
            return super().execute_job(job, queue)
        finally:
            logs.unbind(tokens)

    def heartbeat(self, timeout: int | None = None, pipeline=None):
        """RQ's heartbeat, which also registers the worker again when Redis has forgotten it.

        A Redis that restarted empty (no persistence) or was flushed lost every worker's registration while
        the workers kept running and filing; readiness, which counts registered workers, said "no worker is
        running" until each was restarted. The heartbeat after every job (and every idle dequeue timeout)
        puts the registration back: one SISMEMBER per heartbeat.
        """
        if pipeline is None:
            try:
                if not self.connection.sismember(self.redis_workers_keys, self.key):
                    self.log.warning(
                        "Worker %s: Redis had forgotten this worker; registering again", self.name
                    )
                    with self.connection.pipeline() as again:
                        again.hset(self.key, mapping=self.serialize())
                        worker_registration.register(self, again)
                        again.expire(self.key, self.worker_ttl + 60)
                        again.execute()
            except redis.RedisError:
                pass  # Redis is away: RQ's own heartbeat below meets the same error and handles it
        return super().heartbeat(timeout, pipeline)
