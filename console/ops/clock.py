"""The filing clock and a stuck pipeline, read from the database (the one source of truth).

The law (18 U.S.C. §2258A) asks for a report "as soon as reasonably possible" after actual knowledge; the
console's knowledge starts when a person confirms the violation. The clock is the age of the oldest piece of
confirmed content not yet reported: a report row that is not finished (from its creation), or a confirmed
case still waiting for the moderator's "Report to NCMEC" (from its decision).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from console.cases.models import Case
from console.extensions import db
from console.reporting.models import ACTIVE_STATES, PARKED_STATES, ExternalReport
from console.timeutil import utcnow


@dataclass(frozen=True)
class FilingClock:
    oldest_unfinished_report: datetime | None  # created_at of the oldest report not finished nor retracted
    oldest_unreported_case: datetime | None  # decided_at of the oldest case flagged "NCMEC report required"
    waiting_for_credentials: int
    failed: int

    @property
    def started_at(self) -> datetime | None:
        moments = [m for m in (self.oldest_unfinished_report, self.oldest_unreported_case) if m is not None]
        return min(moments) if moments else None

    def age_seconds(self, now: datetime | None = None) -> float:
        start = self.started_at
        return max(0.0, ((now or utcnow()) - start).total_seconds()) if start else 0.0


def filing_clock() -> FilingClock:
    unfinished = (*ACTIVE_STATES, *PARKED_STATES)
    oldest_report = db.session.scalar(
        select(func.min(ExternalReport.created_at)).where(ExternalReport.state.in_(unfinished))
    )
    # The partial index on ncmec_report_required keeps this cheap at millions of cases.
    oldest_case = db.session.scalar(
        select(func.min(Case.decided_at)).where(Case.ncmec_report_required.is_(True))
    )
    counts = dict(
        db.session.execute(
            select(ExternalReport.state, func.count())
            .where(ExternalReport.state.in_(PARKED_STATES))
            .group_by(ExternalReport.state)
        ).all()
    )
    return FilingClock(
        _aware(oldest_report),
        _aware(oldest_case),
        counts.get("waiting_credentials", 0),
        counts.get("failed", 0),
    )


def _aware(moment: datetime | str | None) -> datetime | None:
    # min() over a UTCDateTime column skips the type's conversion: SQLite gives naive UTC (or text).
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
