"""How media is shown to each person: their own choices, else the admins' defaults.

The page only carries them (data attributes and classes); static/js/viewing.js applies blur strength and
re-blur, and the server decides what is loaded at all (nothing before a recorded reveal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import func, literal, select, union_all

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
    return row if row is not None else _built_in()


def _built_in() -> CareSettings:
    return CareSettings(
        **{c.key: c.default.arg for c in CareSettings.__table__.columns if c.default and c.default.is_scalar}
    )


def defaults() -> Viewing:
    return Viewing.of(care_settings())


def for_user(user_id: int) -> Viewing:
    """The person's own choices, else the admins' defaults, else the built-in ones: one statement (the two
    rows' columns, own first), where reading one and then the other was two."""
    own = select(literal(0).label("rank"), *(getattr(ViewingPreference, f) for f in FIELDS)).where(
        ViewingPreference.user_id == user_id
    )
    first = select(func.min(CareSettings.id)).scalar_subquery()
    care = select(literal(1), *(getattr(CareSettings, f) for f in FIELDS)).where(CareSettings.id == first)
    found = db.session.execute(union_all(own, care).order_by("rank").limit(1)).first()
    if found is None:
        return Viewing.of(_built_in())
    # A union's booleans come back from SQLite as 0/1.
    return Viewing(*(bool(v) if f in _FLAGS else v for f, v in zip(FIELDS, found[1:], strict=True)))


_FLAGS = {"grayscale", "reblur_on_leave", "video_muted", "video_paused"}


def has_own(user_id: int) -> bool:
    return (
        db.session.scalar(select(ViewingPreference.id).where(ViewingPreference.user_id == user_id))
        is not None
    )
