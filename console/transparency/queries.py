"""The transparency figures of the NCMEC work over a period, computed from the database as it is.

Definitions (the page states them too):
- A CyberTip is a report NCMEC finished (state "finished"); it counts in the month of its finish (UTC).
- Automatic: filed without the moderator's dialog (an automatic signal confirmed in the rule's review queue,
  `triggered_by = "ai"`); human: filed through "Report to NCMEC".
- Time from confirmation to finished: the report's finish minus the case's confirmed-violation decision (the
  report's creation when the case has no decision time). Median: the middle value (the mean of the two middle
  values for an even count); p90: nearest rank, the smallest time within which 90 % of reports finished.
- Failures: reports parked as failed or waiting for credentials, by the reason recorded; retries: a report put
  back to work by a person (Retry, new credentials) and a report filed anew on a new NCMEC report (with its
  reason). Automatic backoff retries are not counted: the pipeline records no event for them.
- Re-upload matches: cases whose files matched the hash bank, in the month of the match, by how they matched
  (a case that matched two ways counts in both); follow-up reports: CyberTips finished in the period for
  cases that matched an earlier CyberTip.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from console.audit import AuditEvent
from console.cases.models import Case
from console.extensions import db
from console.hashbank.hashing import MD5, PDQ, SHA256
from console.hashbank.models import HashMatch
from console.reporting.models import ExternalReport
from console.timeutil import UTCDateTime, utcnow

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_MONTHS = 120
TRIGGERS = {"ai": "automatic", "human": "human"}
MATCH_KINDS = {
    "exact": "Same file (SHA-256 or MD5)",
    "perceptual": "Similar picture (PDQ)",
    "detector": "Detector's hash",
}
FAILURE_ACTIONS = {"report_failed": "Failed", "report_waiting_credentials": "Waiting for credentials"}
RETRY_ACTIONS = {"report_resumed": "Put back to work by a person", "report_restarted": "Filed anew"}
REASON_SHOWN = 160
# The distribution chart's buckets: (upper bound in seconds, label); the last has no bound.
BUCKETS = [
    (60, "under 1 min"),
    (5 * 60, "1–5 min"),
    (15 * 60, "5–15 min"),
    (3600, "15–60 min"),
    (6 * 3600, "1–6 h"),
    (24 * 3600, "6–24 h"),
    (3 * 86400, "1–3 days"),
    (None, "3 days or more"),
]


class PeriodError(ValueError):
    """The period asked for cannot be shown; the message says why."""


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    @property
    def months(self) -> list[str]:
        out, year, month = [], self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def default_period(today: date | None = None) -> Period:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    today = today or utcnow().date()
    year, month = today.year, today.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return Period(date(year, month, 1), today)


def parse_period(start: str | None, end: str | None, today: date | None = None) -> Period:
    """The period from the page's `from` and `to` (YYYY-MM-DD); either may be left out. Raises PeriodError."""
    default = default_period(today)
    first = _day(start, "from") or default.start
    last = _day(end, "to") or default.end
    if first > last:
        raise PeriodError("“from” is after “to”")
    period = Period(first, last)
    if len(period.months) > MAX_MONTHS:
        raise PeriodError(f"at most {MAX_MONTHS // 12} years at once")
    return period


def _day(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip()[:10]) if len(value.strip()) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise PeriodError(f"“{name}” is a date written YYYY-MM-DD")
    if not EARLIEST <= day <= LATEST:
        raise PeriodError(f"“{name}” must be between {EARLIEST} and {LATEST}")
    return day


@dataclass
class Figures:
    period: Period
    months: list[str]
    incident_types: list[str] = field(default_factory=list)
    cybertips: Counter = field(default_factory=Counter)  # (month, incident type) → n
    cybertips_by_type: Counter = field(default_factory=Counter)
    cybertips_by_month: Counter = field(default_factory=Counter)
    by_trigger: Counter = field(default_factory=Counter)  # (month, "automatic"/"human") → n
    trigger_totals: Counter = field(default_factory=Counter)
    durations: list[float] = field(default_factory=list)  # seconds, ascending
    distribution: list[tuple[str, int]] = field(default_factory=list)
    failures: list[tuple[str, str, int]] = field(default_factory=list)  # (what, reason, n), most first
    retries: list[tuple[str, str, int]] = field(default_factory=list)
    matches: Counter = field(default_factory=Counter)  # (month, kind) → cases
    matched_cases_by_month: Counter = field(default_factory=Counter)
    follow_up_reports: int = 0

    @property
    def total(self) -> int:
        return sum(self.cybertips_by_type.values())

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(self.durations) if self.durations else None

    @property
    def p90_seconds(self) -> float | None:
        if not self.durations:
            return None
        return self.durations[math.ceil(0.9 * len(self.durations)) - 1]

    @property
    def match_kinds(self) -> dict[str, str]:
        return MATCH_KINDS


def figures(period: Period) -> Figures:
    out = Figures(period, period.months)
    _cybertips(out)
    _failures_and_retries(out)
    _matches(out)
    return out


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _cybertips(out: Figures) -> None:
    p = out.period
    rows = db.session.execute(
        select(
            ExternalReport.finished_at,
            ExternalReport.incident_type,
            ExternalReport.triggered_by,
            ExternalReport.created_at,
            Case.decided_at,
        )
        .join(Case, Case.id == ExternalReport.case_id)
        .where(
            ExternalReport.state == "finished",
            ExternalReport.finished_at >= p.start_at,
            ExternalReport.finished_at < p.end_at,
        )
    ).all()
    durations = []
    for finished_at, incident_type, triggered_by, created_at, decided_at in rows:
        month = _month(finished_at)
        out.cybertips[(month, incident_type)] += 1
        out.cybertips_by_type[incident_type] += 1
        out.cybertips_by_month[month] += 1
        trigger = TRIGGERS.get(triggered_by, triggered_by)
        out.by_trigger[(month, trigger)] += 1
        out.trigger_totals[trigger] += 1
        confirmed = decided_at if decided_at is not None and decided_at <= finished_at else created_at
        durations.append(max((finished_at - confirmed).total_seconds(), 0.0))
    out.incident_types = sorted(out.cybertips_by_type, key=lambda t: (-out.cybertips_by_type[t], t))
    out.durations = sorted(durations)
    out.distribution = _distribution(out.durations)


def _distribution(durations: list[float]) -> list[tuple[str, int]]:
    counts = [0] * len(BUCKETS)
    for seconds in durations:
        for i, (bound, _label) in enumerate(BUCKETS):
            if bound is None or seconds < bound:
                counts[i] += 1
                break
    return [(label, n) for (_bound, label), n in zip(BUCKETS, counts, strict=True)]


def _failures_and_retries(out: Figures) -> None:
    p = out.period
    rows = db.session.execute(
        select(AuditEvent.action, AuditEvent.details).where(
            AuditEvent.action.in_([*FAILURE_ACTIONS, *RETRY_ACTIONS]),
            AuditEvent.at >= p.start_at,
            AuditEvent.at < p.end_at,
        )
    ).all()
    failures: Counter = Counter()
    retries: Counter = Counter()
    for action, details in rows:
        reason = _reason((details or {}).get("reason"))
        if action in FAILURE_ACTIONS:
            failures[(FAILURE_ACTIONS[action], reason)] += 1
        else:
            retries[(RETRY_ACTIONS[action], reason if action == "report_restarted" else "")] += 1
    out.failures = _ranked(failures)
    out.retries = _ranked(retries)


def _reason(reason) -> str:
    text = " ".join(str(reason or "").split()) or "no reason recorded"
    return text if len(text) <= REASON_SHOWN else text[: REASON_SHOWN - 1] + "…"


def _ranked(counter: Counter) -> list[tuple[str, str, int]]:
    return [
        (what, reason, n) for (what, reason), n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _match_kind(algorithm: str) -> str:
    if algorithm in (SHA256, MD5):
        return "exact"
    return "perceptual" if algorithm == PDQ else "detector"


def _matches(out: Figures) -> None:
    p = out.period
    rows = db.session.execute(
        select(HashMatch.case_id, HashMatch.algorithm, func.min(HashMatch.created_at))
        .where(HashMatch.created_at >= p.start_at, HashMatch.created_at < p.end_at)
        .group_by(HashMatch.case_id, HashMatch.algorithm)
    ).all()
    typed = UTCDateTime()
    kinds: dict[tuple[str, str], set[int]] = {}
    cases: dict[str, set[int]] = {}
    for case_id, algorithm, first in rows:
        # An aggregate comes back untyped (SQLite: a string): read it as the column's type would.
        if isinstance(first, str):
            first = datetime.fromisoformat(first)
        month = _month(typed.process_result_value(first, db.engine.dialect))
        kinds.setdefault((month, _match_kind(algorithm)), set()).add(case_id)
        cases.setdefault(month, set()).add(case_id)
    out.matches = Counter({key: len(ids) for key, ids in kinds.items()})
    out.matched_cases_by_month = Counter({month: len(ids) for month, ids in cases.items()})
    matched = select(HashMatch.case_id).where(HashMatch.cybertip_id.is_not(None))
    out.follow_up_reports = (
        db.session.scalar(
            select(func.count())
            .select_from(ExternalReport)
            .where(
                ExternalReport.state == "finished",
                ExternalReport.finished_at >= p.start_at,
                ExternalReport.finished_at < p.end_at,
                ExternalReport.case_id.in_(matched),
            )
        )
        or 0
    )


def csv_rows(f: Figures) -> list[tuple[str, str, str, object]]:
    """The figures as (section, month, key, value) rows: every number the page shows."""
    rows: list[tuple[str, str, str, object]] = [
        ("period", "", "from", f.period.start.isoformat()),
        ("period", "", "to", f.period.end.isoformat()),
    ]
    for month in f.months:
        for incident_type in f.incident_types:
            rows.append(("cybertips", month, incident_type, f.cybertips[(month, incident_type)]))
    for incident_type in f.incident_types:
        rows.append(("cybertips", "total", incident_type, f.cybertips_by_type[incident_type]))
    for month in f.months:
        for trigger in TRIGGERS.values():
            rows.append(("cybertips_by_trigger", month, trigger, f.by_trigger[(month, trigger)]))
    for trigger in TRIGGERS.values():
        rows.append(("cybertips_by_trigger", "total", trigger, f.trigger_totals[trigger]))
    rows.append(("confirmation_to_finished", "", "reports", len(f.durations)))
    rows.append(("confirmation_to_finished", "", "median_seconds", _seconds(f.median_seconds)))
    rows.append(("confirmation_to_finished", "", "p90_seconds", _seconds(f.p90_seconds)))
    for label, n in f.distribution:
        rows.append(("confirmation_to_finished_distribution", "", label, n))
    for what, reason, n in f.failures:
        rows.append(("failures", "", f"{what}: {reason}", n))
    for what, reason, n in f.retries:
        rows.append(("retries", "", f"{what}: {reason}" if reason else what, n))
    for month in f.months:
        for kind in MATCH_KINDS:
            rows.append(("reupload_matches", month, kind, f.matches[(month, kind)]))
        rows.append(("reupload_matches", month, "cases", f.matched_cases_by_month[month]))
    rows.append(("follow_up_reports", "", "finished", f.follow_up_reports))
    return rows


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def human_duration(seconds: float | None) -> str:
    """E.g. "45 s", "12 min 5 s", "3 h 20 min", "2 d 4 h"."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"
