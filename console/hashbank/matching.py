"""Matching new media against the bank at ingestion, and sending a matching case to be reviewed.

`match_new_case` runs inside the ingesting transaction, after the files are stored: exact hashes (SHA-256,
MD5, a detector's) by the (algorithm, value) index, PDQ by distance through the in-memory index (index.py).
A match is recorded per file (HashMatch) with the earlier CyberTip, and the case goes to the review queue of
the rule that filed the earlier report (or of the rule covering its policy, or the first enabled rule), with
the match as its automatic signal, so that a person's confirmation there files the follow-up report without
a dialog (console/reporting/service.py, the AI flow); filing names the earlier CyberTip in priorCTReports.

An image too large to decode in a web request (the rule media.storage uses for previews) is hashed by a job
after the commit (`match_media`); a match found then marks and routes the case the same way, if still open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, or_, select

from console import audit, tasks
from console.cases import counters
from console.cases.models import Case
from console.extensions import db
from console.hashbank import hashing
from console.hashbank.hashing import MD5, PDQ, SHA256
from console.hashbank.index import bank_index
from console.hashbank.models import HashEntry, HashMatch, HashSource, MediaHash
from console.media import storage
from console.media.models import MediaFile
from console.queues.models import Queue
from console.reporting import rules
from console.reporting.models import ExternalReport, ReportingRule
from console.timeutil import utcnow

MATCH_JOB = "jobs.hashbank.match_media"
# Per file: the nearest entry of each source, at most this many (one file may be in many lists).
MATCHES_PER_FILE = 10
# Exact kinds first: "the same file" says more than "a similar picture" at the same distance.
_RANK = {SHA256: 0, MD5: 1, PDQ: 3}


def max_distance() -> int:
    return int(current_app.config.get("HASHBANK_PDQ_DISTANCE", hashing.PDQ_DISTANCE))


@dataclass
class Routed:
    """Where a matching case was sent, and the rule whose review queue it is."""

    queue: Queue
    rule: ReportingRule


@dataclass
class _Candidate:
    entry: HashEntry
    distance: int
    cybertip_id: str | None
    report_id: int | None = None
    sort_key: tuple = field(default=())


def match_new_case(
    case: Case, media: list[MediaFile], detector_hashes: list[dict[str, str]], *, actor_label: str = ""
) -> Routed | None:
    """Check each new file against the bank, in the ingesting transaction; mark and route a matching case.

    Also records each file's PDQ and the detector's hashes (media_hashes). A large image's PDQ is left to
    a job after the commit: `enqueue_deferred(media)`.
    """
    found: list[tuple[MediaFile, _Candidate]] = []
    for i, m in enumerate(media):
        supplied = detector_hashes[i] if i < len(detector_hashes) else {}
        for algorithm, value in supplied.items():
            db.session.add(MediaHash(media_id=m.id, algorithm=algorithm, value=value, computed_by="detector"))
        pdq = None
        if m.kind == "image":
            if getattr(m, "preview_pending", False):
                m.pdq_pending = True  # not a column: read by enqueue_deferred() after the commit
            else:
                pdq = record_pdq(m)
        exact = [(SHA256, m.sha256), (MD5, m.md5)] + [(a, v) for a, v in supplied.items() if a != PDQ]
        pdqs = [h for h in (pdq, supplied.get(PDQ)) if h]
        found += [(m, c) for c in _candidates(exact, pdqs)]
    if not found:
        return None
    return _mark(case, found, actor_label=actor_label)


def enqueue_deferred(media: list[MediaFile]) -> None:
    """After the commit: a job hashes the images too large to decode in the request, and matches them."""
    for m in media:
        if getattr(m, "pdq_pending", False):
            tasks.enqueue(MATCH_JOB, m.id, job_id=f"pdq-{m.id}")


def match_media(media_id: int) -> bool:
    """The job's half of a large image: its PDQ, then matching. True if it matched the bank."""
    m = db.session.get(MediaFile, media_id)
    if m is None or m.kind != "image":
        return False
    done = db.session.scalar(
        select(MediaHash.id).where(
            MediaHash.media_id == media_id, MediaHash.algorithm == PDQ, MediaHash.computed_by == "console"
        )
    )
    if done is not None:
        return False
    pdq = record_pdq(m)
    matched = set(db.session.scalars(select(HashMatch.entry_id).where(HashMatch.media_id == media_id)))
    found = [(m, c) for c in _candidates([], [pdq] if pdq else []) if c.entry.id not in matched]
    if found:
        _mark(db.session.get(Case, m.case_id), found, actor_label="worker")
    tasks.commit_then_enqueue()
    return bool(found)


def record_pdq(m: MediaFile) -> str | None:
    """The file's PDQ, recorded; returned only when good enough to look up (and to bank later)."""
    # A file whose pixels do not decode is recorded as hashed, without a value: it is not tried again.
    value, quality = hashing.pdq_of_image(storage.path_for(m)) or ("", 0)
    db.session.add(
        MediaHash(media_id=m.id, algorithm=PDQ, value=value, quality=quality, computed_by="console")
    )
    return value if quality >= hashing.PDQ_MIN_QUALITY else None


def _candidates(exact: list[tuple[str, str]], pdqs: list[str]) -> list[_Candidate]:
    """The bank entries a file matches: the nearest of each source, exact kinds first, at most a few."""
    found: dict[int, tuple[int, HashEntry]] = {}
    if exact:
        entries = db.session.scalars(
            select(HashEntry)
            .where(or_(*[and_(HashEntry.algorithm == a, HashEntry.value == v) for a, v in exact]))
            .limit(MATCHES_PER_FILE * 10)
        )
        for entry in entries:
            found[entry.id] = (0, entry)
    near: dict[int, int] = {}
    for value in pdqs:
        for entry_id, distance in bank_index().search(value, max_distance())[: MATCHES_PER_FILE * 10]:
            near[entry_id] = min(distance, near.get(entry_id, distance))
    if near:
        for entry in db.session.scalars(select(HashEntry).where(HashEntry.id.in_(list(near)))):
            found.setdefault(entry.id, (near[entry.id], entry))
    if not found:
        return []
    sources = {
        s.id: s
        for s in db.session.scalars(
            select(HashSource).where(HashSource.id.in_({e.source_id for _d, e in found.values()}))
        )
    }
    best: dict[int, _Candidate] = {}
    for distance, entry in found.values():
        source = sources[entry.source_id]
        candidate = _Candidate(
            entry,
            distance,
            entry.cybertip_id or source.cybertip_id,
            source.report_id,
            (distance, _RANK.get(entry.algorithm, 2), entry.id),
        )
        if entry.source_id not in best or candidate.sort_key < best[entry.source_id].sort_key:
            best[entry.source_id] = candidate
    return sorted(best.values(), key=lambda c: c.sort_key)[:MATCHES_PER_FILE]


def _mark(case: Case, found: list[tuple[MediaFile, _Candidate]], *, actor_label: str) -> Routed | None:
    """Record the matches, and send the case to the child-safety review queue with the match as its signal."""
    now = utcnow()
    for m, c in found:
        db.session.add(
            HashMatch(
                case_id=case.id,
                media_id=m.id,
                entry_id=c.entry.id,
                algorithm=c.entry.algorithm,
                distance=c.distance,
                cybertip_id=c.cybertip_id,
                created_at=now,
            )
        )
    cybertips = sorted({c.cybertip_id for _m, c in found if c.cybertip_id}, key=lambda t: (len(t), t))
    rule, policy_id = _review_rule([c for _m, c in found])
    moved_from = None
    if rule is not None:
        moved_from = _route(case, rule, policy_id, cybertips)
    audit.record(
        "case_matched_reported_content",
        "case",
        case.id,
        actor_label=actor_label or "system",
        case_id=case.id,
        cybertips=cybertips,
        files=[
            {"file": m.original_name, "algorithm": c.entry.algorithm, "distance": c.distance}
            for m, c in found[:40]
        ],
        review_queue=rule.review_queue.name if rule is not None else None,
        moved_from_queue=moved_from,
    )
    return Routed(rule.review_queue, rule) if rule is not None else None


def _review_rule(candidates: list[_Candidate]) -> tuple[ReportingRule | None, int | None]:
    """The rule whose review queue takes the case, and the policy its signal names.

    The rule that filed the earlier report, if still enabled; else the rule covering that report's policy;
    else (a match on an imported list) the first enabled rule, with the first policy it names.
    """
    report_ids = [c.report_id for c in sorted(candidates, key=lambda c: c.sort_key) if c.report_id]
    for report_id in dict.fromkeys(report_ids):
        report = db.session.get(ExternalReport, report_id)
        policy_id = report.case.policy_id if report is not None and report.case is not None else None
        if report is not None and report.rule is not None and report.rule.enabled:
            rule = report.rule
        else:
            rule = rules.rule_for(policy_id)
        if rule is not None:
            if policy_id is None or policy_id not in rules.policies_covered_by(rule):
                policy_id = rule.policies[0].id if rule.policies else None
            return rule, policy_id
    rule = db.session.scalar(
        select(ReportingRule).where(ReportingRule.enabled.is_(True)).order_by(ReportingRule.id).limit(1)
    )
    if rule is None:
        return None, None
    return rule, rule.policies[0].id if rule.policies else None


def _route(case: Case, rule: ReportingRule, policy_id: int | None, cybertips: list[str]) -> str | None:
    """Move an open case to the rule's review queue (keeping both counters exact); returns the old queue."""
    moved_from = None
    if case.status == "open" and case.queue_id != rule.review_queue_id:
        old = db.session.get(Queue, case.queue_id)
        moved_from = old.name if old is not None else None
        counters.moved(case.queue_id, rule.review_queue_id, case.reported_at)
        case.queue = rule.review_queue
    if not case.ai_detected and case.status == "open":
        # "An upstream model or rule flagged the content": the bank is that rule. A person confirms in the
        # review queue, and the report is then filed automatically, as for any automatic signal.
        case.ai_detected = True
        case.ai_policy_id = policy_id
        what = f"CyberTip {', '.join(cybertips)}" if cybertips else "an imported hash list"
        case.ai_model = f"Hash bank: matches content reported in {what}"[:200]
        if case.policy_id is None:
            case.policy_id = policy_id
    return moved_from
