from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow


class MediaFile(db.Model):
    """A file attached to a case, stored under MEDIA_ROOT by a random key (never a guessable path)."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    # As long as NCMEC's originalFileName allows: a longer name is refused at ingestion, never cut.
    original_name: Mapped[str] = mapped_column(String(2056))
    mime_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # image | video | audio
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    md5: Mapped[str] = mapped_column(String(32))
    # A tiny grayscale preview stored beside the file; the page shows it blurred until a person reveals.
    has_preview: Mapped[bool] = mapped_column(default=False)
    # What the platform kept about the file (console/api/platform_details.parse_file_details): its name
    # there, upload time, location, public or not, the upload's IP event and device ids, metadata pairs.
    details: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case = relationship("Case", back_populates="media")
    views: Mapped[list[MediaView]] = relationship(back_populates="media", order_by="MediaView.id")


class MediaView(db.Model):
    """A person revealed a file. This record, and nothing else, makes NCMEC's fileViewedByEsp true."""

    __tablename__ = "media_views"
    # A moderator's child-safety reveals of one day are counted often (console/childsafety/exposure.py).
    __table_args__ = (Index("ix_media_views_user_viewed", "user_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_files.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    viewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The file was child-safety material when it was revealed: what the exposure budget counts. Kept as it
    # was then, so a case moved or re-classified later does not rewrite anyone's past days.
    child_safety: Mapped[bool] = mapped_column(default=False, server_default=false())

    media: Mapped[MediaFile] = relationship(back_populates="views")
    user = relationship("User")
