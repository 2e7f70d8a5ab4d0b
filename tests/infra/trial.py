"""A fault trial on the stack (tests/infra/stack.py): continuous filing over HTTP, then the oracle.

The load is what production sees: an upstream detector posts AI detections with an image to the ingestion
API; a moderator signed in to the web confirms each (CSAM), which files its report automatically and sends
the decision's actions to the platform; the moderator's queues page is read meanwhile. Every answer is
judged as it comes: 2xx, or while a part is down a 503 — the API's with `Retry-After`, a page's the outage
page naming the part. Anything else (a 500, a traceback, a 503 without its page) is a violation. A 503 is
retried later, as an upstream system and a moderator do.

The oracle after the trial: every confirmed content ends with exactly one finished report at NCMEC holding its
file; no confirmed decision is lost (every one acknowledged is in the database); every decision's webhook
events are delivered and received; every finished report's evidence is preserved; every audit event is sealed
and `flask audit verify` passes; every stored case has all of its media files (nothing stored half).
"""

from __future__ import annotations

import io
import json
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from tests import factories

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Load:
    """What the load saw: answers by kind, and every answer that broke the rules."""

    posted: dict[str, int] = field(default_factory=dict)  # content id → case id
    confirmed: set[int] = field(default_factory=set)  # case ids whose decision was acknowledged
    answers: Counter = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    outage_parts: Counter = field(default_factory=Counter)


class Filer:
    """Files continuously from a thread of its own until stopped."""

    def __init__(self, stack, token: str, moderator_email: str, csam_policy_id: int, prefix: str):
        self.stack, self.token, self.email, self.policy = stack, token, moderator_email, csam_policy_id
        self.prefix = prefix
        self.load = Load()
        self.session = requests.Session()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="filer", daemon=True)
        self._n = 0
        self._pending_posts: list[str] = []
        self._pending_decisions: list[int] = []
        self.signed_in = False
        self.limit: int | None = None
        # One simulator serves every trial of a module: only what this trial filed is judged.
        self.baseline = {r["report_id"] for r in stack.simulator.reports()}

    def start(self, limit: int | None = None) -> Filer:
        self.limit = limit
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def drain(self, seconds: float) -> None:
        """Until every detection is posted and every case confirmed (the parts are all back), or time's up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and (self._pending_posts or self._pending_decisions):
            time.sleep(0.2)

    # --- the loop ------------------------------------------------------------------------------------------

    # Seconds between the filer's steps (a detection posted and confirmed, the queues page read): below what
    # two workers file while NCMEC answers in 300 ms a call (4 calls a report, ~1.7 reports/s). Faster, the
    # backlog grew through each trial — 219 reports in one — and "recovery" measured that backlog, the
    # reports re-enqueued after the outage waiting behind every report confirmed since.
    INTERVAL = float(os.environ.get("INFRA_FILER_INTERVAL", "0.8"))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except requests.RequestException as error:
                # The web process itself does not answer: never expected (it stays up through every fault).
                self.load.violations.append(f"web not answering: {type(error).__name__}")
                time.sleep(0.5)
            self._stop.wait(self.INTERVAL)

    def _step(self) -> None:
        # A detector told 503 retries that detection before it posts the next, as one honouring Retry-After
        # would. Adding one a step regardless piled up a detection per 50 ms of outage, all accepted at once
        # when the part came back: 150 reports instead of 30 after a slow restart, whose evidence filled the
        # small disk (ENOSPC: pending past the bound, a fault the trial did not inject).
        if not self._pending_posts and (self.limit is None or self._n < self.limit):
            self._n += 1
            self._pending_posts.append(f"{self.prefix}-{self._n}")
        for content_id in list(self._pending_posts):
            if not self._post(content_id):
                break
            self._pending_posts.remove(content_id)
        if not self.signed_in:
            self.signed_in = self._sign_in()
        if self.signed_in:
            for case_id in list(self._pending_decisions):
                if self._decide(case_id):
                    self._pending_decisions.remove(case_id)
            self._page("/queues")

    def _judge(self, what: str, response: requests.Response, *, api: bool) -> str:
        """'ok', 'outage' (a correct 503) or 'bad' (recorded as a violation)."""
        status = response.status_code
        self.load.answers[f"{what} {status}"] += 1
        if status < 400 or status in (409,):
            return "ok"
        if status == 503:
            if "Traceback" in response.text:
                self.load.violations.append(f"{what}: a traceback in a 503")
                return "bad"
            if api:
                body = response.json()
                if not response.headers.get("Retry-After") or not body.get("errors"):
                    self.load.violations.append(f"{what}: 503 without Retry-After or errors: {body}")
                    return "bad"
                self.load.outage_parts[next(iter(body["errors"]))] += 1
            else:
                match = re.search(r'data-part="(\w+)"', response.text)
                if not match:
                    self.load.violations.append(f"{what}: 503 without the outage page: {response.text[:200]}")
                    return "bad"
                self.load.outage_parts[match.group(1)] += 1
            return "outage"
        self.load.violations.append(f"{what}: {status} {response.text[:300]}")
        return "bad"

    def _post(self, content_id: str) -> bool:
        case = {
            "content_id": content_id,
            "reported_at": "2026-11-20T08:00:00Z",
            "source_kind": "proactive",
            "content_url": f"https://platform.example/p/{content_id}",
            "reported_user": {"platform_id": f"u-{content_id}", "name": "Sam Uploader"},
            "ai_decision": {"policy": "csam", "confidence": 0.98, "model": "hash-matcher-v2"},
        }
        seed = abs(hash(content_id)) % 100_000
        response = self.session.post(
            f"{self.stack.url}/api/v1/cases",
            data={"case": json.dumps(case)},
            files=[("media", (f"{content_id}.png", io.BytesIO(factories.png_bytes(seed)), "image/png"))],
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        verdict = self._judge("POST /api/v1/cases", response, api=True)
        if verdict == "ok":
            self.load.posted[content_id] = response.json()["case_id"]
            self._pending_decisions.append(response.json()["case_id"])
            return True
        return verdict == "bad"  # a bad answer is recorded; retrying it would record it again

    def _sign_in(self) -> bool:
        page = self.session.get(f"{self.stack.url}/login", timeout=30)
        if self._judge("GET /login", page, api=False) != "ok":
            return False
        token = CSRF.search(page.text).group(1)
        response = self.session.post(
            f"{self.stack.url}/login",
            data={"email": self.email, "password": factories.PASSWORD, "csrf_token": token},
            timeout=30,
        )
        return self._judge("POST /login", response, api=False) == "ok" and "/login" not in response.url

    def _decide(self, case_id: int) -> bool:
        page = self.session.get(f"{self.stack.url}/cases/{case_id}", timeout=30)
        if self._judge("GET /cases/<id>", page, api=False) != "ok":
            return False
        if "/login" in page.url:
            self.signed_in = False
            return False
        token = CSRF.search(page.text).group(1)
        response = self.session.post(
            f"{self.stack.url}/cases/{case_id}/decision",
            data={"verdict": "violation", "policy": self.policy, "csrf_token": token},
            headers={"HX-Request": "true"},
            timeout=30,
        )
        verdict = self._judge("POST decision", response, api=False)
        if verdict == "ok":
            self.load.confirmed.add(case_id)
            return True
        return verdict == "bad"

    def _page(self, path: str) -> None:
        response = self.session.get(f"{self.stack.url}{path}", timeout=30)
        self._judge(f"GET {path}", response, api=False)


# --- the oracle ---------------------------------------------------------------------------------------------


def pipeline_done(stack, load: Load) -> bool:
    """Every acknowledged decision's report finished, every event delivered, every record preserved."""
    from console.evidence.models import EvidenceRecord
    from console.extensions import db
    from console.reporting.models import ExternalReport
    from console.webhooks.models import WebhookEvent

    try:
        db.session.rollback()
        reports = db.session.execute(db.select(ExternalReport.case_id, ExternalReport.state)).all()
        finished = {case_id for case_id, state in reports if state == "finished"}
        events = db.session.scalar(
            db.select(db.func.count()).select_from(WebhookEvent).where(WebhookEvent.state != "delivered")
        )
        pending = db.session.scalar(
            db.select(db.func.count()).select_from(EvidenceRecord).where(EvidenceRecord.state != "preserved")
        )
        records = db.session.scalar(db.select(db.func.count()).select_from(EvidenceRecord))
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the database is still coming back
        db.session.rollback()
        return False
    return load.confirmed <= finished and not events and not pending and records == len(finished)


def wait_for_pipeline(stack, load: Load, seconds: float) -> float | None:
    """Seconds until the pipeline is done, or None if it was not within `seconds`."""
    started = time.monotonic()
    deadline = started + seconds
    while time.monotonic() < deadline:
        stack.supervise()
        if pipeline_done(stack, load):
            return time.monotonic() - started
        time.sleep(0.25)
    return None


def check(stack, load: Load, receiver, baseline: set[str]) -> list[str]:
    """The oracle: the list of what broke (empty: the trial held)."""
    from console.audit import AuditEvent
    from console.cases.models import Case, Decision
    from console.evidence.models import EvidenceRecord
    from console.extensions import db
    from console.media import storage
    from console.media.models import MediaFile
    from console.reporting.models import ExternalReport, ReportContent
    from console.webhooks.models import WebhookEvent

    problems = list(load.violations)
    db.session.rollback()
    decided = {
        case_id
        for (case_id,) in db.session.execute(
            db.select(Decision.case_id).where(Decision.verdict == "violation")
        ).all()
    }
    lost = load.confirmed - decided
    if lost:
        problems.append(f"decisions acknowledged but not in the database: {sorted(lost)}")
    # Every confirmed content: exactly one finished report at NCMEC, holding its URL and its file.
    cases = {c.id: c for c in db.session.scalars(db.select(Case).where(Case.id.in_(decided)))}
    rows = list(db.session.scalars(db.select(ExternalReport).where(ExternalReport.case_id.in_(decided))))
    by_case = Counter(r.case_id for r in rows)
    for case_id in decided:
        if by_case[case_id] != 1:
            problems.append(f"case {case_id}: {by_case[case_id]} report rows")
    unfinished = [(r.id, r.state, r.last_error) for r in rows if r.state != "finished"]
    if unfinished:
        problems.append(f"reports not finished: {unfinished}")
    finished_at_ncmec = [
        r for r in stack.simulator.reports() if r["state"] == "finished" and r["report_id"] not in baseline
    ]
    per_url = Counter()
    for received in finished_at_ncmec:
        xml = stack.simulator.report(received["report_id"])["xml"]
        for url in re.findall(r"<url>([^<]+)</url>", xml):
            per_url[url] += 1
    for case_id, case in cases.items():
        if per_url[case.content_url] != 1:
            problems.append(f"case {case_id}: {per_url[case.content_url]} finished reports at NCMEC")
    if len(finished_at_ncmec) != len(decided):
        problems.append(f"{len(finished_at_ncmec)} finished reports at NCMEC for {len(decided)} contents")
    ours = Counter(r.ncmec_report_id for r in rows)
    theirs = Counter(r["report_id"] for r in finished_at_ncmec)
    if ours != theirs:
        problems.append("the finished reports at NCMEC are not the ones recorded")
    for received in finished_at_ncmec:
        if len(received["files"]) != 1 or not all(f["details_received"] for f in received["files"]):
            problems.append(f"NCMEC report {received['report_id']}: files {received['files']}")
    contents = list(db.session.scalars(db.select(ReportContent).where(ReportContent.case_id.in_(decided))))
    if len(contents) != len(decided) or not all(c.live for c in contents):
        problems.append("report contents: not one live row per confirmed content")
    # Nothing stored half: every case's media rows have their bytes on disk.
    for media in db.session.scalars(db.select(MediaFile)):
        if not storage.path_for(media).exists():
            problems.append(f"media {media.id} of case {media.case_id}: its file is missing")
    # Webhook events: every decision's, delivered and received (at least once, by id).
    events = list(db.session.scalars(db.select(WebhookEvent).where(WebhookEvent.case_id.in_(decided))))
    per_case = Counter(e.case_id for e in events)
    missing_events = [c for c in decided if per_case[c] < 2]  # remove content, disable the account
    if missing_events:
        problems.append(f"cases without their webhook events: {missing_events}")
    received_ids = {r.id for r in receiver.received}
    undelivered = [e.id for e in events if e.state != "delivered" or e.message_id not in received_ids]
    if undelivered:
        problems.append(f"webhook events not delivered: {undelivered}")
    # Evidence: one preserved record per finished report.
    report_ids = {r.id for r in rows}
    records = {
        r.report_id: r.state
        for r in db.session.scalars(db.select(EvidenceRecord).where(EvidenceRecord.report_id.in_(report_ids)))
    }
    not_preserved = {rid: records.get(rid) for rid in report_ids if records.get(rid) != "preserved"}
    if not_preserved:
        problems.append(f"evidence not preserved: {not_preserved}")
    # Audit: each decision and each finish has its event, and every event is sealed and verifies.
    actions = Counter(
        (a, c)
        for a, c in db.session.execute(db.select(AuditEvent.action, AuditEvent.case_id)).all()
        if c in decided
    )
    for case_id in decided:
        if not any(count for (a, c), count in actions.items() if c == case_id and "decid" in a):
            problems.append(f"case {case_id}: no audit event of its decision")
    db.session.rollback()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        unsealed = db.session.scalar(
            db.select(db.func.count()).select_from(AuditEvent).where(AuditEvent.log_index.is_(None))
        )
        db.session.rollback()
        if not unsealed:
            break
        time.sleep(0.5)
    else:
        problems.append(f"{unsealed} audit events not sealed 30 s after the trial")
    verified = stack.flask("audit", "verify")
    if verified.returncode != 0:
        problems.append(f"flask audit verify: {verified.stdout[-500:]} {verified.stderr[-500:]}")
    return problems


def finished_cases() -> set[int] | None:
    from console.extensions import db
    from console.reporting.models import ExternalReport

    try:
        db.session.rollback()
        done = set(
            db.session.scalars(db.select(ExternalReport.case_id).where(ExternalReport.state == "finished"))
        )
        db.session.rollback()
        return done
    except Exception:  # noqa: BLE001 - the database is still coming back
        db.session.rollback()
        return None


def recovery(stack, waiting: set[int], seconds: float) -> float | None:
    """Seconds from now until every case in `waiting` (acknowledged before the part returned) has its
    finished report: how long the pipeline took to move again. None: not within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        stack.supervise()
        done = finished_cases()
        if done is not None and waiting <= done:
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def watch_readiness(stack, seconds: float, part: str) -> dict:
    """Sample /readyz for `seconds` while `part` is down: how often it was 503 naming that part."""
    seen = Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, checks = stack.readiness()
        named = checks.get(part, {}).get("ok") is False
        seen["503 naming " + part if status == 503 and named else f"{status} other"] += 1
        time.sleep(0.3)
    return dict(seen)


def diagnose(stack, waiting: set[int]) -> dict:
    """What a stuck pipeline looks like, for the message of a failed trial: RQ's queue and registries, the
    workers, and the stuck reports' rows."""
    from redis import Redis
    from rq import Queue, Worker

    from console.extensions import db
    from console.reporting.models import ExternalReport

    found: dict = {}
    connection = Redis.from_url(stack.redis.url, socket_timeout=5)
    try:
        queue = Queue(stack.queue, connection=connection)
        found["rq"] = {
            "queued": queue.count,
            "scheduled": queue.scheduled_job_registry.count,
            "started": queue.started_job_registry.count,
            "failed": queue.failed_job_registry.count,
            "workers": [(w.pid, w.get_state()) for w in Worker.all(queue=queue)],
            "first_jobs": [j.func_name for j in queue.get_jobs(0, 5)],
        }
    except Exception as error:  # noqa: BLE001 - a diagnosis never fails the diagnosis
        found["rq"] = repr(error)
    finally:
        connection.close()
    found["processes"] = {
        "workers": [p.poll() for p in stack.workers],
        "cron": stack.cron and stack.cron.poll(),
    }
    db.session.rollback()
    found["stuck"] = [
        (
            r.id,
            r.state,
            r.attempts,
            r.lease_owner,
            str(r.next_attempt_at),
            str(r.updated_at),
            r.last_error[:80],
        )
        for r in db.session.scalars(db.select(ExternalReport).where(ExternalReport.state != "finished"))
    ][:10]
    db.session.rollback()
    return found
