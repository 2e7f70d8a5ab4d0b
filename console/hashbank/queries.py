"""Reading the hash bank: a case's matches (its banner) and the bank's page.

Nothing here changes a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from console.extensions import db
from console.hashbank.hashing import MD5, PDQ, PDQ_BITS, SHA256
from console.hashbank.models import HashEntry, HashMatch, HashSource

ALGORITHM_LABELS = {SHA256: "SHA-256", MD5: "MD5", PDQ: "PDQ"}


def algorithm_label(algorithm: str) -> str:
    return ALGORITHM_LABELS.get(algorithm, algorithm)


@dataclass
class FileMatch:
    file_name: str
    algorithm: str
    distance: int
    cybertip_id: str | None
    source_label: str

    @property
    def how(self) -> str:
        """How the file matched, in words a moderator reads."""
        if self.algorithm in (SHA256, MD5):
            return f"the same file ({algorithm_label(self.algorithm)})"
        if self.algorithm == PDQ:
            if self.distance == 0:
                return "the same picture (PDQ, identical)"
            return f"a similar picture (PDQ, {self.distance} of {PDQ_BITS} bits differ)"
        return f"the detector's {self.algorithm} hash"


@dataclass
class CaseMatches:
    matches: list[FileMatch]

    @property
    def cybertips(self) -> list[str]:
        return sorted({m.cybertip_id for m in self.matches if m.cybertip_id}, key=lambda t: (len(t), t))

    def __bool__(self) -> bool:
        return bool(self.matches)


def case_matches(case_id: int) -> CaseMatches:
    rows = db.session.scalars(
        select(HashMatch)
        .where(HashMatch.case_id == case_id)
        .options(joinedload(HashMatch.media), joinedload(HashMatch.entry).joinedload(HashEntry.source))
        .order_by(HashMatch.media_id, HashMatch.distance, HashMatch.id)
    )
    return CaseMatches(
        [
            FileMatch(m.media.original_name, m.algorithm, m.distance, m.cybertip_id, m.entry.source.label)
            for m in rows
        ]
    )


@dataclass
class BankOverview:
    by_algorithm: list[tuple[str, int]]  # (label, entries)
    reports_banked: int
    imports: list[HashSource]
    matched_cases: int


def overview(imports_shown: int = 50) -> BankOverview:
    counts = db.session.execute(
        select(HashEntry.algorithm, func.count()).group_by(HashEntry.algorithm).order_by(HashEntry.algorithm)
    ).all()
    return BankOverview(
        by_algorithm=[(algorithm_label(a), n) for a, n in counts],
        reports_banked=db.session.scalar(
            select(func.count()).select_from(HashSource).where(HashSource.kind == "report")
        )
        or 0,
        imports=list(
            db.session.scalars(
                select(HashSource)
                .where(HashSource.kind == "import")
                .options(joinedload(HashSource.imported_by))
                .order_by(HashSource.id.desc())
                .limit(imports_shown)
            )
        ),
        matched_cases=db.session.scalar(select(func.count(func.distinct(HashMatch.case_id)))) or 0,
    )
