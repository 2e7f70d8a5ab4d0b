"""Statements of reasons to the DSA Transparency Database: batch vs one call each, and draining 10,000.

    .venv/bin/python bench/sor.py [--rate-decisions 1000] [--drain 10000] [--bulk] [--latency 50] [--rounds 3]

PostgreSQL and Redis as the other benchmarks (BENCH_PG, BENCH_REDIS_URL). The stand-in (dsa_standin, over
real HTTP, in a thread of this process) answers every call --latency ms late (its `latency_ms`), as a distant
service would. Decisions are made through `cases.service.decide` (a French user's spam post removed): the
decision's transaction freezes its statement and enqueues the send job, exactly as in production.

Rate (each round): --rate-decisions decisions made with no worker running, then ONE burst worker of the
production class (`rq worker -c jobs.settings -w jobs.worker.ConsoleWorker`) drains them, first with
SOR_BATCH=1 (the batch endpoint, up to 100 per call), then — the same number again — with SOR_BATCH=0 (one
call per statement). Statements/s = how many ÷ (the last `submitted_at` − the first claim's `first_sent_at`):
the sending, not the worker's start-up. Target: batch ≥ 20 × single.

Drain (once): --drain decisions made with no worker running, then ONE production worker; the time from its
first claim to the last statement stored (also printed: from the worker's start). Target: 10,000 within 60 s
at L = 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench.filing_setup import PRODUCTION_WORKER, Filing  # noqa: E402

TOKEN = "1|bench-token"  # noqa: S105 - the stand-in's, on this machine only
RATIO_TARGET = 20.0
DRAIN_TARGET_SECONDS = 60.0


class Bench:
    def __init__(self, filing: Filing, standin_url: str):
        from console.extensions import db
        from console.policies.models import Policy
        from console.sor import service
        from console.webhooks import endpoints

        self.filing = filing
        self.policy = Policy(slug="spam", name="Spam")
        db.session.add(self.policy)
        db.session.commit()
        endpoints.allow_host("127.0.0.1", "the benchmark")
        endpoint, _ = endpoints.save_endpoint(
            None, name="Platform", url="http://127.0.0.1:9/hooks", secret="whsec_" + "B" * 32
        )
        endpoint.enabled = False  # the platform's events are not measured here: they wait
        action = endpoints.save_action(
            None,
            name="Remove content",
            event_type="content.remove",
            endpoint_id=endpoint.id,
            verdict="violation",
            enabled=True,
            skippable=False,
            policy_ids=[self.policy.id],
        )
        db.session.commit()
        service.save_environment("sandbox", base_url=standin_url, token=TOKEN)
        service.save_agency(enabled=True, environment="sandbox", countries=["FR"])
        service.save_policy_mapping(
            self.policy.id,
            {
                "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
                "ground": "incompatible",
                "clause": "Terms §4.2",
                "explanation": "Unsolicited bulk advertising.",
                "content_types": ["CONTENT_TYPE_TEXT"],
                "facts": "A spam post was removed.",
            },
        )
        service.save_action_mapping(action.id, {"visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]})
        self.seq = 0

    def decide(self) -> int:
        """A French user's spam post, opened and removed by a moderator; returns the decision's id."""
        from console.cases import service as cases
        from console.extensions import db
        from console.timeutil import utcnow

        self.seq += 1
        n = self.seq
        user = cases.find_or_create_reported_user(
            platform_id=f"fr-{os.getpid()}-{n}", details={"estimated_location": {"country_code": "FR"}}
        )
        case = cases.open_case(
            self.filing.queue,
            reported_at=utcnow(),
            text="spam",
            content_id=f"sor-{os.getpid()}-{n}",
            reported_user=user,
        )
        db.session.commit()
        outcome = cases.decide(case.id, "violation", self.policy.id, self.filing.moderator)
        db.session.rollback()
        return outcome.decision.id

    def decide_in_bulk(self, n: int) -> float:
        """n decisions whose statements wait to be sent, made fast: one real decision through
        `cases.service.decide` (its statement built and frozen by the console), then n − 1 more cases,
        decisions and statements written in bulk with that body and each its own decision's PUID. What the
        drain then measures — claiming, sending, recording — is the same for both."""
        from sqlalchemy import select

        from console.cases.models import Case, Decision
        from console.dsa import puid_for
        from console.extensions import db
        from console.sor.models import StatementOfReasons
        from console.timeutil import utcnow

        started = time.monotonic()
        self.decide()
        template = db.session.scalars(
            select(StatementOfReasons).order_by(StatementOfReasons.id.desc()).limit(1)
        ).one()
        body, action_ids = dict(template.body), list(template.action_ids)
        for start in range(0, n - 1, 1000):
            now = utcnow()
            pairs = []
            for i in range(start, min(start + 1000, n - 1)):
                case = Case(
                    queue_id=self.filing.queue.id,
                    status="violation",
                    source_kind="ai_review",
                    text="spam",
                    content_id=f"sor-bulk-{os.getpid()}-{i}",
                    reported_at=now,
                    received_at=now,
                    policy_id=self.policy.id,
                    decided_at=now,
                )
                decision = Decision(
                    case=case,
                    verdict="violation",
                    policy_id=self.policy.id,
                    moderator_id=self.filing.moderator.id,
                    made_by="human",
                    created_at=now,
                )
                pairs.append((case, decision))
            db.session.add_all([c for c, _ in pairs])
            db.session.flush()
            db.session.add_all(
                StatementOfReasons(
                    decision_id=d.id,
                    case_id=c.id,
                    puid=puid_for(d.id),
                    environment="sandbox",
                    state="pending",
                    waiting_reason="",
                    body={**body, "puid": puid_for(d.id)},
                    action_ids=action_ids,
                    category=template.category,
                    decision_type=template.decision_type,
                    ground=template.ground,
                    automated_decision=template.automated_decision,
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
                for c, d in pairs
            )
            db.session.commit()
        return time.monotonic() - started

    def decide_many(self, n: int) -> float:
        started = time.monotonic()
        for _ in range(n):
            self.decide()
        return time.monotonic() - started

    def drained(self, since, expected: int, timeout: float = 1800.0) -> tuple[float, float]:
        """Wait until the statements made since ``since`` are all stored: (seconds from their first claim to
        the last stored, the last stored time)."""
        from sqlalchemy import func, select

        from console.extensions import db
        from console.sor.models import StatementOfReasons

        deadline = time.monotonic() + timeout
        mine = StatementOfReasons.created_at >= since
        while True:
            done = db.session.scalar(
                select(func.count()).where(mine, StatementOfReasons.state == "submitted")
            )
            if done >= expected:
                first, last = db.session.execute(
                    select(
                        func.min(StatementOfReasons.first_sent_at), func.max(StatementOfReasons.submitted_at)
                    ).where(mine)
                ).one()
                db.session.rollback()
                return (last - first).total_seconds(), last
            db.session.rollback()
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done} of {expected} statements stored")
            time.sleep(0.2)

    def run_worker(self, n: int, *, batch: bool) -> float:
        """n decisions with no worker running, then one burst production worker; statements/s from its first
        claim to the last stored (its start-up, seconds on a loaded machine, is not the sending)."""
        from console.timeutil import utcnow

        since = utcnow()
        self.decide_many(n)
        worker = self.filing.worker(
            burst=True, worker_class=PRODUCTION_WORKER, env={"SOR_BATCH": "1" if batch else "0"}
        )
        try:
            seconds, _last = self.drained(since, n)
        finally:
            common.stop(worker)
        return n / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate-decisions", type=int, default=1000)
    parser.add_argument("--drain", type=int, default=10_000)
    parser.add_argument("--latency", type=int, default=50, help="ms the stand-in adds to every call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="console_bench_sor")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--bulk",
        action="store_true",
        help="make the drain's decisions in bulk (decide_in_bulk), not one by one",
    )
    args = parser.parse_args()
    common.print_machine()
    from dsa_standin import serve_in_thread

    standin = serve_in_thread({TOKEN: "Bench platform"})
    standin.set_latency(args.latency)
    # The service's own rate limits stay (200/s, 12,000/min per token): 10,000 in batches is 100 calls.
    sim, sim_url, user, password = common.start_simulator()
    load_before = os.getloadavg()[0]
    filing = None
    ratios, batch_rates, single_rates = [], [], []
    try:
        filing = Filing(args.db, sim_url, user, password)
        bench = Bench(filing, standin.base_url)
        for r in range(1, args.rounds + 1):
            batch = bench.run_worker(args.rate_decisions, batch=True)
            single = bench.run_worker(args.rate_decisions, batch=False)
            batch_rates.append(batch)
            single_rates.append(single)
            ratios.append(batch / single)
            print(
                f"round {r}: batch {batch:.1f} statements/s; one call each {single:.1f}/s; "
                f"ratio {batch / single:.1f} (L = {args.latency} ms, load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        drain_seconds = None
        if args.drain:
            from console.timeutil import utcnow

            since = utcnow()
            made = (bench.decide_in_bulk if args.bulk else bench.decide_many)(args.drain)
            how = (
                "in bulk from one real decision's statement" if args.bulk else "through cases.service.decide"
            )
            print(f"{args.drain} decisions made in {made:.0f} s, {how} (no worker running)", flush=True)
            worker_started = utcnow()
            worker = filing.worker(burst=True, worker_class=PRODUCTION_WORKER)
            try:
                drain_seconds, last = bench.drained(since, args.drain)
            finally:
                common.stop(worker)
            with_startup = (last - worker_started).total_seconds()
            print(
                f"drain: {args.drain} statements stored by one worker in {drain_seconds:.1f} s from its "
                f"first claim ({args.drain / drain_seconds:.0f}/s), {with_startup:.1f} s from its start "
                f"(L = {args.latency} ms; load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
        stored = standin.stats()["statements"]
        expected = 2 * args.rounds * args.rate_decisions + args.drain
        if stored != expected:
            raise RuntimeError(f"the stand-in holds {stored} statements, expected {expected}")
    finally:
        if filing:
            filing.close()
        common.stop(sim)
        standin.shutdown()
    load = f"load {load_before:.1f} → {os.getloadavg()[0]:.1f} on {common.machine()['nproc']} cores"
    ratio_met = common.spread(ratios)[0] >= RATIO_TARGET
    print(f"\n{args.rounds} rounds; worker class {PRODUCTION_WORKER}; {load}")
    print(
        f"batch ÷ single: {common.fmt_spread(ratios, 1)} (target ≥ {RATIO_TARGET:g}: "
        f"{'met' if ratio_met else 'NOT met'}); batch {statistics.median(batch_rates):.0f}/s, "
        f"single {statistics.median(single_rates):.1f}/s"
    )
    drain_met = drain_seconds is not None and drain_seconds <= DRAIN_TARGET_SECONDS * args.drain / 10_000
    if drain_seconds is not None:
        print(
            f"drain of {args.drain}: {drain_seconds:.1f} s "
            f"(target ≤ 60 s for 10,000: {'met' if drain_met else 'NOT met'})"
        )
    if not args.no_record:
        rows = [
            {
                "figure": f"SoRs/s through the batch endpoint (L = {args.latency} ms)",
                "reference": "one call per SoR",
                "ratios": ratios,
                "target": f"≥ {RATIO_TARGET:g}×",
                "met": ratio_met,
            }
        ]
        if drain_seconds is not None:
            rows.append(
                {
                    "figure": f"{args.drain} decisions drained by one worker (s, L = {args.latency} ms)",
                    "reference": "60 s",
                    "ratios": [drain_seconds / 60.0],
                    "target": "≤ 1.00",
                    "met": drain_met,
                }
            )
        common.append_results(rows)
    return 0 if ratio_met and (drain_met or not args.drain) else 1


if __name__ == "__main__":
    raise SystemExit(main())
