"""The periodic jobs, for `rq cron jobs/cron.py --url $REDIS_URL` (the runner starts it).

The reports' sweep; the follow-ups' sweep (enqueues again what a finished report set going — its evidence,
its hashes, the platform's preservation request — that no job has done); the evidence sweep (preserves what
a worker did not, and the reports finished before follow-ups existed); the retention job (purges expired
evidence no legal hold covers, deletes old "no violation" media when configured); the audit log's sealer
(every second) and its verification; the hash bank's sweep (banks the finished reports, and the PDQ of
their images, that no job did); the webhooks' sweep (enqueues again the events to the platform that
no worker delivers); the statements of reasons' sweep (the same, for the DSA Transparency Database).
"""

import os

from rq import cron

from console import logs
from jobs import evidence, hashbank, sor, webhooks
from jobs.reports import sweep, sweep_follow_ups

QUEUE = os.environ.get("RQ_QUEUE", "console")
# `rq cron` never creates the app: its lines follow LOG_FORMAT here (the jobs it enqueues get their own ids).
logs.configure(os.environ.get("LOG_FORMAT", "text"), os.environ.get("LOG_LEVEL", "INFO"))


def periodic(func, variable: str, default: int) -> None:
    """A sweep every `variable` seconds. One that waited in the queue longer than a few intervals is dropped
    (ttl): the next one does the same work. Without it, while the workers were down or slow (Redis restarted
    with AOF, every worker restarting), the sweeps piled up in the queue ahead of the reports' own jobs."""
    interval = int(os.environ.get(variable, str(default)))
    cron.register(func, queue_name=QUEUE, interval=interval, ttl=max(10, 5 * interval))


periodic(sweep, "SWEEP_INTERVAL_SECONDS", 30)
periodic(sweep_follow_ups, "FOLLOW_UP_SWEEP_INTERVAL_SECONDS", 30)
periodic(evidence.sweep, "EVIDENCE_SWEEP_INTERVAL_SECONDS", 300)
periodic(evidence.retention, "RETENTION_INTERVAL_SECONDS", 3600)
periodic(hashbank.sweep, "HASHBANK_SWEEP_INTERVAL_SECONDS", 300)
periodic(webhooks.sweep, "WEBHOOK_SWEEP_INTERVAL_SECONDS", 30)
periodic(sor.sweep, "SOR_SWEEP_INTERVAL_SECONDS", 30)
# The sealer: every second by default. A run finding a sealer at work leaves at once; a run that waited in the
# queue longer than a few intervals is dropped (ttl): the next one seals the same events.
SEAL_INTERVAL = int(os.environ.get("AUDIT_SEAL_INTERVAL_SECONDS", "1"))
cron.register(
    evidence.seal_audit_log,
    queue_name=QUEUE,
    interval=SEAL_INTERVAL,
    ttl=max(10, 5 * SEAL_INTERVAL),
    result_ttl=0,
)
cron.register(
    evidence.verify_audit_log,
    queue_name=QUEUE,
    interval=int(os.environ.get("AUDIT_VERIFY_INTERVAL_SECONDS", "86400")),
    job_timeout=3600,
)
