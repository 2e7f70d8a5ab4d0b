"""How media is shown to each person: their own choices, else the admins' defaults.

The page only carries them (data attributes and classes); static/js/viewing.js applies blur strength and
re-blur, and the server decides what is loaded at all (nothing before a recorded reveal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select

from console.childsafety.models import CareSettings, ViewingPreference
from console.extensions import db

BLUR_RANGE = (4, 40)  # CSS pixels
REBLUR_MAX_SECONDS = 3600


@dataclass(frozen=True)
class Viewing:
    blur_px: int
    grayscale: bool
    reblur_seconds: int  # 0: never
    reblur_on_leave: bool
    video_muted: bool
    video_paused: bool

    @classmethod
    def of(cls, row) -> Viewing:
        return cls(**{name: getattr(row, name) for name in FIELDS})

    def as_dict(self) -> dict:
        return asdict(self)


FIELDS = tuple(Viewing.__dataclass_fields__)


def care_settings() -> CareSettings:
    """The admins' one row of settings; before they save it, the built-in defaults (not stored)."""
    row = db.session.scalar(select(CareSettings).order_by(CareSettings.id).limit(1))
    if row is None:
        row = CareSettings(
            **{
                c.key: c.default.arg
                for c in CareSettings.__table__.columns
                if c.default and c.default.is_scalar
            }
        )
    return row


def defaults() -> Viewing:
    return Viewing.of(care_settings())


def for_user(user_id: int) -> Viewing:
    own = db.session.scalar(select(ViewingPreference).where(ViewingPreference.user_id == user_id))
    return Viewing.of(own) if own is not None else defaults()


def has_own(user_id: int) -> bool:
    return (
        db.session.scalar(select(ViewingPreference.id).where(ViewingPreference.user_id == user_id))
        is not None
    )
