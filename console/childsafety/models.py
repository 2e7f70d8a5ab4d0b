"""What child-safety care keeps: viewing preferences, the admins' defaults and support link, breaks taken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from console.extensions import db
from console.timeutil import UTCDateTime, utcnow

BLUR_DEFAULT = 14  # CSS pixels: enough to hide what a 24-px preview could still suggest


class ViewingFields:
    """How media is shown to one person: the same fields for a moderator's choice and the admins' defaults."""

    blur_px: Mapped[int] = mapped_column(default=BLUR_DEFAULT, server_default=str(BLUR_DEFAULT))
    grayscale: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Revealed media blurs again after this many seconds (0: never) or when the pointer and focus leave it.
    reblur_seconds: Mapped[int] = mapped_column(default=0, server_default="0")
    reblur_on_leave: Mapped[bool] = mapped_column(default=False, server_default=false())
    video_muted: Mapped[bool] = mapped_column(default=True, server_default=true())
    video_paused: Mapped[bool] = mapped_column(default=True, server_default=true())


class ViewingPreference(ViewingFields, db.Model):
    """A moderator's own viewing choices; without a row, the admins' defaults (CareSettings) apply."""

    __tablename__ = "viewing_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CareSettings(ViewingFields, db.Model):
    """What admins set for everyone, one row: viewing defaults, support resources, where escalations go."""

    __tablename__ = "care_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Shown on the break screen and the moderator's own page: the employee assistance programme, a counsellor.
    support_url: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    support_label: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Where a moderator without the permission sends a child-safety case; none: the first child-safety queue.
    escalation_queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExposureBreak(db.Model):
    """A break the console asked a moderator to take after many child-safety reveals in one day."""

    __tablename__ = "exposure_breaks"
    __table_args__ = (Index("ix_exposure_breaks_user_started", "user_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
