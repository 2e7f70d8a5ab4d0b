"""The hash bank: hashes of content already reported to NCMEC (or on a list an admin imported), and what
matched them.

- HashSource: where a set of hashes came from — one finished report (its CyberTip id), or one imported list.
- HashEntry: one hash (SHA-256, MD5, PDQ, or a detector's own algorithm) of one source. Looked up exactly by
  (algorithm, value); PDQ hashes are also found by distance through the in-memory index (index.py).
- PdqFeed: the order in which PDQ entries were added, on a sequence of its own: what each process's index
  reads to catch up (an id it has not seen yet is a PDQ entry it has not seen yet).
- MediaHash: the hashes of an ingested file beyond SHA-256 and MD5 (its PDQ, a detector's hashes), kept so
  that banking a finished report copies rows and decodes nothing.
- HashMatch: a case's file matched a banked hash: the case "matches reported content"; `prior_cybertips`
  names the earlier CyberTips a follow-up report gives NCMEC.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

SOURCE_KINDS = {"report": "Finished CyberTip report", "import": "Imported list"}
# A detector's algorithm may name a hash as long as this (PhotoDNA is 144 bytes, 288 in hex).
VALUE_MAX = 512


class HashSource(db.Model):
    __tablename__ = "hash_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # report | import
    label: Mapped[str] = mapped_column(String(200))
    # One source per finished report: banking a report twice (the finish, then the sweep) adds nothing.
    report_id: Mapped[int | None] = mapped_column(ForeignKey("external_reports.id"), unique=True)
    cybertip_id: Mapped[str | None] = mapped_column(String(20))
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entry_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report = relationship("ExternalReport")
    imported_by = relationship("User")

    @property
    def kind_label(self) -> str:
        return SOURCE_KINDS.get(self.kind, self.kind)


class HashEntry(db.Model):
    __tablename__ = "hash_bank_entries"
    __table_args__ = (
        UniqueConstraint("source_id", "algorithm", "value", name="uq_hash_bank_entries_source_hash"),
        # Every exact lookup at ingestion: "is this hash in the bank?".
        Index("ix_hash_bank_entries_lookup", "algorithm", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("hash_sources.id"))
    algorithm: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(VALUE_MAX))
    # The CyberTip the hashed content was reported in, when known (a report's, or a list's column).
    cybertip_id: Mapped[str | None] = mapped_column(String(20))
    # The reported file, for a report's entries.
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    source: Mapped[HashSource] = relationship()


class PdqFeed(db.Model):
    __tablename__ = "hash_bank_pdq_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("hash_bank_entries.id"), unique=True)


class MediaHash(db.Model):
    __tablename__ = "media_hashes"
    # A detector may send a PDQ of its own (of a video's key frame, say) beside the one the console computes.
    __table_args__ = (
        UniqueConstraint("media_id", "algorithm", "computed_by", name="uq_media_hashes_media_algorithm"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"))
    algorithm: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(VALUE_MAX))
    # PDQ's own quality score (0–100) for a hash the console computed; None for a detector's hash.
    quality: Mapped[int | None]
    computed_by: Mapped[str] = mapped_column(String(10))  # console | detector


class HashMatch(db.Model):
    __tablename__ = "hash_matches"
    __table_args__ = (
        UniqueConstraint("media_id", "entry_id", name="uq_hash_matches_media_entry"),
        Index("ix_hash_matches_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("hash_bank_entries.id"))
    algorithm: Mapped[str] = mapped_column(String(40))
    distance: Mapped[int] = mapped_column(default=0)  # bits that differ (PDQ); 0 for an exact match
    cybertip_id: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    media = relationship("MediaFile")
    entry: Mapped[HashEntry] = relationship()

    @property
    def exact(self) -> bool:
        return self.algorithm != "pdq" or self.distance == 0


def _numbered(ids) -> list[str]:
    return sorted({i for i in ids if i.isascii() and i.isdigit()}, key=int)


def prior_cybertips_by_file(case_id: int) -> dict[int, list[str]]:
    """For each of the case's files that matches earlier reported content: those CyberTips (the dialog says
    "reported before in CyberTip N" beside the file)."""
    found: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(HashMatch.media_id, HashMatch.cybertip_id)
        .where(HashMatch.case_id == case_id, HashMatch.cybertip_id.is_not(None))
        .distinct()
    )
    for media_id, cybertip_id in rows:
        found.setdefault(media_id, []).append(cybertip_id)
    return {media_id: _numbered(ids) for media_id, ids in found.items() if _numbered(ids)}


def prior_cybertips(case_id: int) -> list[str]:
    """The CyberTip ids of earlier reports whose content this case's files match, as NCMEC numbers them.

    Here, beside the schema, because reporting (below the bank in the layers) reads it when it freezes a
    report's payload: NCMEC's priorCTReports.
    """
    ids = db.session.scalars(
        select(HashMatch.cybertip_id)
        .where(HashMatch.case_id == case_id, HashMatch.cybertip_id.is_not(None))
        .distinct()
    )
    return _numbered(ids)
