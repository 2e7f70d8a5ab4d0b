"""Webhooks to the platform: decision → delivered at the receiver, and deliveries/s per worker vs no-op jobs.

    .venv/bin/python bench/webhooks.py [--decisions 100] [--jobs 200] [--rounds 3] [--latency 50]

PostgreSQL and Redis as the other benchmarks (BENCH_PG, BENCH_REDIS_URL); the receiver
(bench/webhook_receiver.py) runs in its own process and verifies every signature with `standardwebhooks`.

Latency (each round): ONE production worker (`rq worker -c jobs.settings -w jobs.worker.ConsoleWorker`) idle;
--decisions decisions, one after the other (each once the previous one is recorded delivered, so the
worker is idle), each confirming a violation whose policy runs one
action (content.remove) through `cases.service.decide` — the decision's transaction writes the event, commits,
enqueues. Measured: from just before `decide` to the event's arrival at the receiver, which the receiver
stamps on arrival, before its own --latency ms of work. So the figure is the time *above* the receiver's own
latency: the decision's commit, Redis, the worker's pickup, the claim, signing, connecting. Target: p95 ≤ 30
ms. Also printed: decision → "delivered" recorded (which includes the receiver's latency).

Throughput (each round): --jobs no-op jobs (bench.common.noop), then --jobs delivery jobs (decisions made with
no worker running, their events' jobs waiting in the queue), each run by ONE burst worker of the production
class; the receiver answers at once (--latency 0 for this half). The no-op rate comes from RQ's job
timestamps (first start to last end); deliveries are timed on the events (first claim to last "delivered"),
because a delivery job may deliver a batch of its endpoint's due events (WEBHOOK_BATCH) and take their jobs
out: how many delivery jobs ran is printed. Target: deliveries/s ÷ no-op jobs/s ≥ 0.5.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.filing_setup import PRODUCTION_WORKER, Filing, job_rate  # noqa: E402

LATENCY_TARGET_MS = 30.0
RATE_TARGET = 0.5


class Bench:
    def __init__(self, filing: Filing, receiver_url: str, secret: str):
        from sqlalchemy import select

        from console.extensions import db
        from console.policies.models import Policy
        from console.webhooks import endpoints

        self.filing = filing
        endpoints.allow_host("127.0.0.1", "the benchmark's receiver")
        endpoint, _ = endpoints.save_endpoint(None, name="Bench receiver", url=receiver_url, secret=secret)
        self.policy = db.session.scalar(select(Policy).where(Policy.slug == "csam"))
        endpoints.save_action(
            None,
            name="Remove content",
            event_type="content.remove",
            endpoint_id=endpoint.id,
            verdict="violation",
            enabled=True,
            skippable=False,
            policy_ids=[self.policy.id],
        )

    def decide(self, case_id: int) -> str:
        """The decision, as the case page's POST makes it; the event's webhook-id."""
        from sqlalchemy import select

        from console.cases import service as cases
        from console.extensions import db
        from console.webhooks.models import WebhookEvent

        cases.decide(case_id, "violation", self.policy.id, self.filing.moderator)
        message_id = db.session.scalar(select(WebhookEvent.message_id).where(WebhookEvent.case_id == case_id))
        db.session.rollback()
        return message_id

    def state(self, message_id: str) -> str:
        from sqlalchemy import select

        from console.extensions import db
        from console.webhooks.models import WebhookEvent

        state = db.session.scalar(select(WebhookEvent.state).where(WebhookEvent.message_id == message_id))
        db.session.rollback()
        return state

    def span(self, message_ids: list[str]):
        """The first attempt's start and the last delivery of these events (each must be delivered once)."""
        from sqlalchemy import func, select

        from console.extensions import db
        from console.webhooks.models import WebhookAttempt, WebhookEvent

        events = select(WebhookEvent.id).where(WebhookEvent.message_id.in_(message_ids))
        delivered = db.session.scalar(
            select(func.count()).where(
                WebhookEvent.message_id.in_(message_ids), WebhookEvent.state == "delivered"
            )
        )
        if delivered != len(message_ids):
            raise RuntimeError(f"{len(message_ids) - delivered} of {len(message_ids)} events not delivered")
        started = db.session.scalar(
            select(func.min(WebhookAttempt.started_at)).where(WebhookAttempt.event_id.in_(events))
        )
        ended = db.session.scalar(
            select(func.max(WebhookEvent.delivered_at)).where(WebhookEvent.id.in_(events))
        )
        db.session.rollback()
        return started, ended

    def delivered_at(self, message_id: str):
        """(state, delivered_at, the first attempt's start: when the worker claimed the event)."""
        from sqlalchemy import func, select

        from console.extensions import db
        from console.webhooks.models import WebhookAttempt, WebhookEvent

        row = db.session.execute(
            select(WebhookEvent.state, WebhookEvent.delivered_at, func.min(WebhookAttempt.started_at))
            .join(WebhookAttempt, WebhookAttempt.event_id == WebhookEvent.id)
            .where(WebhookEvent.message_id == message_id)
            .group_by(WebhookEvent.state, WebhookEvent.delivered_at)
        ).one()
        db.session.rollback()
        return row


def arrivals(log: Path) -> dict[str, float]:
    out = {}
    for line in log.read_text().splitlines():
        at, message_id = line.split()
        out.setdefault(message_id, float(at))
    return out


def start_receiver(port: int, latency: float, log: Path, secret: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(common.BENCH / "webhook_receiver.py"),
            "--port",
            str(port),
            "--latency",
            str(latency),
            "--log",
            str(log),
        ],
        env={**os.environ, "BENCH_WEBHOOK_SECRET": secret},
        start_new_session=True,
    )
    common.wait_for_port(port, proc=proc)
    return proc


def latency_round(bench: Bench, log: Path, n: int) -> tuple[list[float], list[float], dict[str, list[float]]]:
    from rq import Worker

    worker = bench.filing.worker(burst=False, worker_class=PRODUCTION_WORKER)
    try:
        deadline = time.monotonic() + 120
        while Worker.count(queue=bench.filing.rq) < 1:
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError("the worker did not start")
            time.sleep(0.1)
        cases = [bench.filing.make_case(0) for _ in range(n)]
        started: dict[str, float] = {}
        decided: dict[str, float] = {}
        for case_id in cases:
            t0 = time.time()
            message_id = bench.decide(case_id)
            started[message_id], decided[message_id] = t0, time.time()
            # The next decision only once this one is recorded delivered: the worker is idle again, so the
            # figure is one delivery's own latency, not a queue that decisions faster than the receiver's
            # --latency would build up (that would measure the backlog).
            deadline = time.monotonic() + 30
            while bench.state(message_id) != "delivered":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"event {message_id} was not delivered")
                time.sleep(0.005)
        seen = arrivals(log)
        to_arrival = [(seen[m] - t0) * 1000 for m, t0 in started.items()]
        to_recorded = []
        parts: dict[str, list[float]] = {"decide": [], "to the claim": [], "claim to arrival": []}
        deadline = time.monotonic() + 30
        for m, t0 in started.items():
            while True:
                state, at, claimed = bench.delivered_at(m)
                if state == "delivered":
                    to_recorded.append((at.timestamp() - t0) * 1000)
                    parts["decide"].append((decided[m] - t0) * 1000)
                    parts["to the claim"].append((claimed.timestamp() - decided[m]) * 1000)
                    parts["claim to arrival"].append((seen[m] - claimed.timestamp()) * 1000)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"event {m} not recorded delivered: {state}")
                time.sleep(0.05)
        return to_arrival, to_recorded, parts
    finally:
        common.stop(worker)


def throughput_round(bench: Bench, n: int) -> tuple[float, float, int]:
    """(no-op jobs/s, deliveries/s, delivery jobs that ran). A delivery job may deliver a batch of the
    endpoint's due events and take their jobs out, so deliveries are timed on the events themselves: the
    first attempt's start (the claim) to the last event recorded delivered, both on the worker's clock."""
    filing = bench.filing
    jobs = [filing.rq.enqueue("bench.common.noop") for _ in range(n)]
    filing.worker(burst=True, worker_class=PRODUCTION_WORKER).wait(timeout=600)
    noop = job_rate(jobs)
    cases = [filing.make_case(0) for _ in range(n)]
    before = set(filing.rq.job_ids)
    messages = [bench.decide(case_id) for case_id in cases]  # no worker yet: the jobs wait in the queue
    queued = [j for j in filing.rq.job_ids if j not in before]
    if len(queued) != n:
        raise RuntimeError(f"expected {n} delivery jobs, found {len(queued)}")
    filing.worker(burst=True, worker_class=PRODUCTION_WORKER).wait(timeout=600)
    started, ended = bench.span(messages)
    ran = sum(
        1 for j in queued if (job := filing.rq.fetch_job(j)) is not None and job.get_status() == "finished"
    )
    return noop, n / max((ended - started).total_seconds(), 1e-6), ran


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=50.0, help="the receiver's own ms (latency half)")
    parser.add_argument("--db", default="console_bench_webhooks")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    common.print_machine()
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    logs = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    sim, sim_url, user, password = common.start_simulator()
    slow_port, fast_port = common.free_port(), common.free_port()
    slow = start_receiver(slow_port, args.latency, logs / "slow.log", secret)
    fast = start_receiver(fast_port, 0, logs / "fast.log", secret)
    load_before = os.getloadavg()[0]
    filing = None
    p95s, p50s, recorded, ratios, rates, noops = [], [], [], [], [], []
    try:
        filing = Filing(args.db, sim_url, user, password)
        bench = Bench(filing, f"http://127.0.0.1:{slow_port}/hooks", secret)
        for r in range(1, args.rounds + 1):
            to_arrival, to_recorded, parts = latency_round(bench, logs / "slow.log", args.decisions)
            p50s.append(statistics.median(to_arrival))
            p95s.append(common.p95(to_arrival))
            recorded.append(statistics.median(to_recorded))
            print(
                f"round {r} latency: decision → at the receiver p50 {p50s[-1]:.1f} ms, "
                f"p95 {p95s[-1]:.1f} ms; "
                f"→ recorded delivered p50 {recorded[-1]:.1f} ms (receiver {args.latency:g} ms) "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            print(
                "  where it goes (p50): "
                + "; ".join(f"{name} {statistics.median(v):.1f} ms" for name, v in parts.items()),
                flush=True,
            )
        from console.extensions import db
        from console.webhooks.models import WebhookEndpoint

        endpoint = db.session.scalar(db.select(WebhookEndpoint))
        endpoint.url = f"http://127.0.0.1:{fast_port}/hooks"
        db.session.commit()
        for r in range(1, args.rounds + 1):
            noop, rate, ran = throughput_round(bench, args.jobs)
            noops.append(noop)
            rates.append(rate)
            ratios.append(rate / noop)
            print(
                f"round {r} throughput: no-op {noop:.1f} jobs/s; deliveries {rate:.1f}/s; "
                f"ratio {rate / noop:.3f}; {ran} delivery jobs ran for {args.jobs} events "
                f"(load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
    finally:
        if filing:
            filing.close()
        for proc in (slow, fast, sim):
            common.stop(proc)
    load = f"load {load_before:.1f} → {os.getloadavg()[0]:.1f} on {common.machine()['nproc']} cores"
    latency_met = common.spread(p95s)[0] <= LATENCY_TARGET_MS
    rate_met = common.spread(ratios)[0] >= RATE_TARGET
    print(f"\n{args.rounds} rounds; worker class {PRODUCTION_WORKER}; {load}")
    print(
        f"TARGET decision → at the receiver, above its {args.latency:g} ms: "
        f"p95 {common.fmt_spread(p95s, 1)} ms "
        f"(p50 {common.fmt_spread(p50s, 1)}); target ≤ {LATENCY_TARGET_MS:g} ms: "
        f"{'MET' if latency_met else 'NOT MET'}"
    )
    print(
        f"TARGET deliveries/s ÷ no-op jobs/s {common.fmt_spread(ratios, 3)} (deliveries "
        f"{common.fmt_spread(rates, 1)}/s, no-op {common.fmt_spread(noops, 1)}/s); target ≥ {RATE_TARGET}: "
        f"{'MET' if rate_met else 'NOT MET'}"
    )
    if not args.no_record:
        common.append_results(
            [
                {
                    "figure": f"webhooks: decision → at the receiver, p95 ms (receiver +{args.latency:g} ms "
                    "not counted)",
                    "reference": f"the target, {LATENCY_TARGET_MS:g} ms (the ratio is p95 ÷ target)",
                    "ratios": [p / LATENCY_TARGET_MS for p in p95s],
                    "target": "≤ 1.0",
                    "met": latency_met,
                },
                {
                    "figure": f"webhooks: deliveries/s, 1 worker (median {common.spread(rates)[0]:.1f}/s)",
                    "reference": f"no-op jobs/s, same worker class (median {common.spread(noops)[0]:.1f}/s)",
                    "ratios": ratios,
                    "target": f"≥ {RATE_TARGET}",
                    "met": rate_met,
                },
            ]
        )
    return 0 if latency_met and rate_met else 1


if __name__ == "__main__":
    sys.exit(main())
