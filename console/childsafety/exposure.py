"""The exposure budget: how many child-safety files a moderator revealed today, and what follows from it.

Counted from the reveals recorded as child-safety material (`MediaView.child_safety`); every reveal counts,
a second look at the same file too, because it is a second exposure. Days are UTC days.
- The soft limit (EXPOSURE_SOFT_LIMIT): each time today's count reaches a multiple of it, the next
  child-safety reveal waits for a break of EXPOSURE_BREAK_MINUTES (the break screen, with the support link
  the admins set). Revealing anything else is never held back.
- The hard limit (EXPOSURE_HARD_LIMIT): "Next case" stops offering child-safety cases until the next day
  (`may_offer_child_safety`, or the clause `offer_clause` for its query); what the moderator already
  claimed they can still finish.
A limit of 0 is off. Each moderator sees their own week; admins see totals per team, never per person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import distinct, func, literal_column, not_, select

from console.accounts.models import User
from console.childsafety import access
from console.childsafety.models import ExposureBreak
from console.extensions import db
from console.media.models import MediaView
from console.timeutil import utcnow

WEEK = 7
# Teams smaller than this are added up together: a total per team must not be one person's figure.
SMALLEST_TEAM_SHOWN = 3
SMALL_TEAMS = "Teams of fewer than 3 people"
NO_TEAM = "No team"


@dataclass(frozen=True)
class Limits:
    soft: int
    hard: int
    break_minutes: int


def limits() -> Limits:
    cfg = current_app.config
    return Limits(cfg["EXPOSURE_SOFT_LIMIT"], cfg["EXPOSURE_HARD_LIMIT"], cfg["EXPOSURE_BREAK_MINUTES"])


def utc_today() -> date:
    return utcnow().date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def reveals_on(user_id: int, day: date) -> int:
    start, end = day_bounds(day)
    return (
        db.session.scalar(
            select(func.count(MediaView.id)).where(
                MediaView.user_id == user_id,
                MediaView.viewed_at >= start,
                MediaView.viewed_at < end,
                MediaView.child_safety.is_(True),
            )
        )
        or 0
    )


def may_offer_child_safety(user, today: date | None = None) -> bool:
    """Whether "Next case" may offer this person a child-safety case today (below the hard limit)."""
    hard = limits().hard
    return hard <= 0 or reveals_on(user.id, today or utc_today()) < hard


def offer_clause(user, today: date | None = None):
    """The WHERE clause "Next case" adds for this person: no child-safety case without the permission or
    over today's hard limit; None when anything may be offered."""
    if not access.has_access(user) or not may_offer_child_safety(user, today):
        return not_(access.child_safety_clause())
    return None


# --- breaks -------------------------------------------------------------------------------------------------


def active_break(user_id: int, now: datetime | None = None) -> ExposureBreak | None:
    now = now or utcnow()
    return db.session.scalar(
        select(ExposureBreak)
        .where(ExposureBreak.user_id == user_id, ExposureBreak.ends_at > now, ExposureBreak.started_at <= now)
        .order_by(ExposureBreak.id.desc())
        .limit(1)
    )


def _breaks_on(user_id: int, day: date) -> int:
    start, end = day_bounds(day)
    return (
        db.session.scalar(
            select(func.count(ExposureBreak.id)).where(
                ExposureBreak.user_id == user_id,
                ExposureBreak.started_at >= start,
                ExposureBreak.started_at < end,
            )
        )
        or 0
    )


def break_before_reveal(user_id: int, now: datetime | None = None) -> ExposureBreak | None:
    """The break this moderator takes before their next child-safety reveal: the one under way, or one
    started now because today's count reached the next multiple of the soft limit (committed). None: go on."""
    now = now or utcnow()
    current = active_break(user_id, now)
    if current is not None:
        return current
    rules = limits()
    if rules.soft <= 0 or rules.break_minutes <= 0:
        return None
    day = now.date()
    if reveals_on(user_id, day) // rules.soft <= _breaks_on(user_id, day):
        return None
    pause = ExposureBreak(
        user_id=user_id, started_at=now, ends_at=now + timedelta(minutes=rules.break_minutes)
    )
    db.session.add(pause)
    db.session.commit()
    return pause


# --- what people see of it --------------------------------------------------------------------------------


@dataclass
class DayCount:
    day: date
    reveals: int


@dataclass
class MyWeek:
    """A moderator's own figures: the last seven days, today's count against the limits, a break under way."""

    days: list[DayCount]
    limits: Limits
    pause: ExposureBreak | None

    @property
    def today(self) -> int:
        return self.days[-1].reveals

    @property
    def total(self) -> int:
        return sum(d.reveals for d in self.days)

    @property
    def over_soft(self) -> bool:
        return self.limits.soft > 0 and self.today >= self.limits.soft

    @property
    def over_hard(self) -> bool:
        return self.limits.hard > 0 and self.today >= self.limits.hard


def _week(day: date) -> list[date]:
    return [day - timedelta(days=n) for n in range(WEEK - 1, -1, -1)]


def _utc_day(column):
    """The UTC calendar day of a stored time, in SQL (SQLite keeps UTC without an offset)."""
    if db.engine.dialect.name == "postgresql":
        # A literal, not a bound parameter: GROUP BY must repeat the very expression the SELECT has.
        return func.date(func.timezone(literal_column("'UTC'"), column))
    return func.date(column)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def my_week(user_id: int, day: date | None = None) -> MyWeek:
    days = _week(day or utc_today())
    start, _ = day_bounds(days[0])
    rows = db.session.execute(
        select(_utc_day(MediaView.viewed_at), func.count(MediaView.id))
        .where(MediaView.user_id == user_id, MediaView.viewed_at >= start, MediaView.child_safety.is_(True))
        .group_by(_utc_day(MediaView.viewed_at))
    ).all()
    counts = {_as_date(d): n for d, n in rows}
    return MyWeek([DayCount(d, counts.get(d, 0)) for d in days], limits(), active_break(user_id))


@dataclass
class TeamWeek:
    team: str
    people: int  # holders of the permission in the team (or in the small teams together)
    by_day: dict[date, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_day.values())


@dataclass
class TeamTotals:
    days: list[date]
    teams: list[TeamWeek]  # by team name, never by figure: this is not a ranking
    limits: Limits


def team_totals(day: date | None = None) -> TeamTotals:
    """Child-safety reveals per team and day over the last seven days; small teams are added up together."""
    days = _week(day or utc_today())
    start, _ = day_bounds(days[0])
    members = dict(
        db.session.execute(
            select(User.team, func.count(distinct(User.id)))
            .where(User.child_safety_access.is_(True), User.active.is_(True))
            .group_by(User.team)
        ).all()
    )
    rows = db.session.execute(
        select(User.team, _utc_day(MediaView.viewed_at), func.count(MediaView.id))
        .join(User, User.id == MediaView.user_id)
        .where(MediaView.viewed_at >= start, MediaView.child_safety.is_(True))
        .group_by(User.team, _utc_day(MediaView.viewed_at))
    ).all()
    shown = {team for team, n in members.items() if n >= SMALLEST_TEAM_SHOWN}

    def label(team: str) -> str:
        if team not in shown:
            return SMALL_TEAMS
        return team or NO_TEAM

    teams: dict[str, TeamWeek] = {}
    for team, n in members.items():
        entry = teams.setdefault(label(team), TeamWeek(label(team), 0))
        entry.people += n
    by_day: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for team, d, n in rows:
        by_day[label(team)][_as_date(d)] += n
    for name, counts in by_day.items():
        teams.setdefault(name, TeamWeek(name, 0)).by_day = dict(counts)
    ordered = sorted(teams.values(), key=lambda t: (t.team == SMALL_TEAMS, t.team == NO_TEAM, t.team.lower()))
    return TeamTotals(days, ordered, limits())
