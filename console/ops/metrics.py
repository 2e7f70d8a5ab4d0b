"""/metrics in Prometheus's text format, computed from the database and Redis at scrape time.

Reading the truth at scrape time (rather than counting in process memory) gives the same answer whichever
gunicorn worker or host is scraped, with no multiprocess mode and no counters lost at a restart. Every query
here is an aggregate over an indexed column of the reports table, or the queues' own counters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import case, func, select

from console.extensions import db
from console.ops import checks
from console.ops.clock import filing_clock
from console.queues.models import Queue
from console.reporting.models import REPORT_STATES, ExternalReport
from console.webhooks import queries as webhooks

# Seconds from the report's creation (the confirmation) to NCMEC's finish.
FILING_BUCKETS = (1, 2, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600)


class ConsoleCollector:
    def collect(self):
        by_state = select(ExternalReport.state, func.count()).group_by(ExternalReport.state)
        states = dict(db.session.execute(by_state).all())
        reports = GaugeMetricFamily("console_reports", "NCMEC reports by state", labels=["state"])
        for state in REPORT_STATES:
            reports.add_metric([state], states.get(state, 0))
        yield reports

        yield self._filing_latency()

        stopped = GaugeMetricFamily(
            "console_reports_stopped",
            "Unfinished reports whose last attempt failed, by who can fix it (retry: the console itself)",
            labels=["reason"],
        )
        rows = db.session.execute(
            select(ExternalReport.error_kind, func.count())
            .where(ExternalReport.error_kind != "", ExternalReport.state.not_in(("finished", "retracted")))
            .group_by(ExternalReport.error_kind)
        )
        for kind, count in rows:
            stopped.add_metric([kind], count)
        yield stopped

        open_cases = GaugeMetricFamily("console_open_cases", "Open cases per queue", labels=["queue"])
        for slug, count in db.session.execute(select(Queue.slug, Queue.open_cases).order_by(Queue.slug)):
            open_cases.add_metric([slug], count)
        yield open_cases

        platform = webhooks.health()
        events = GaugeMetricFamily(
            "console_webhook_events", "Webhook events to the platform by state", labels=["state"]
        )
        for state, count in platform.by_state.items():
            events.add_metric([state], count)
        yield events
        yield GaugeMetricFamily(
            "console_webhook_oldest_undelivered_seconds",
            "Age of the oldest webhook event not delivered yet (0 when none)",
            value=platform.oldest_age_seconds(),
        )
        yield GaugeMetricFamily(
            "console_webhook_endpoints_disabled",
            "Platform endpoints disabled (410 Gone, failing too long, or by an admin)",
            value=len(platform.disabled),
        )

        clock = filing_clock()
        yield GaugeMetricFamily(
            "console_filing_clock_seconds",
            "Age of the oldest confirmed content not yet reported to NCMEC (0 when none)",
            value=clock.age_seconds(),
        )
        db.session.rollback()

        depth = GaugeMetricFamily("console_rq_jobs", "Jobs in RQ by registry", labels=["registry"])
        workers = GaugeMetricFamily("console_rq_workers", "RQ workers registered on the console's queue")
        try:
            for registry, count in checks.queue_depths().items():
                depth.add_metric([registry], count)
            workers.add_metric([], len(checks.worker_rows()))
        except Exception:  # Redis down: the readiness check says so; the database figures still count
            workers.add_metric([], 0)
        yield depth
        yield workers

    def _filing_latency(self) -> HistogramMetricFamily:
        seconds = _seconds_between(ExternalReport.created_at, ExternalReport.finished_at)
        columns = [func.count(case((seconds <= bound, 1))) for bound in FILING_BUCKETS]
        row = db.session.execute(
            select(*columns, func.count(), func.coalesce(func.sum(seconds), 0)).where(
                ExternalReport.state == "finished", ExternalReport.finished_at.is_not(None)
            )
        ).one()
        buckets = [(str(bound), row[i]) for i, bound in enumerate(FILING_BUCKETS)]
        buckets.append(("+Inf", row[len(FILING_BUCKETS)]))
        return HistogramMetricFamily(
            "console_filing_seconds",
            "Seconds from confirmation (report created) to finished at NCMEC",
            buckets=buckets,
            sum_value=float(row[-1]),
        )


def _seconds_between(start, end):
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ConsoleCollector())
    return generate_latest(registry)
