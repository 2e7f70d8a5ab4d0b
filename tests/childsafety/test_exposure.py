"""The exposure budget: child-safety reveals a day, a break at the soft limit, none offered at the hard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from console.cases import claims
from console.cases import service as cases
from console.childsafety import exposure
from console.childsafety.models import ExposureBreak
from console.extensions import db
from console.media.models import MediaView
from console.timeutil import utcnow
from tests import factories
from tests.childsafety.helpers import child_safety_world, reveal_many


@pytest.fixture
def limits(app):
    app.config.update(EXPOSURE_SOFT_LIMIT=3, EXPOSURE_HARD_LIMIT=5, EXPOSURE_BREAK_MINUTES=10)


def end_breaks() -> None:
    db.session.execute(update(ExposureBreak).values(ends_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def test_only_child_safety_reveals_count_each_one_counting(ctx, limits):
    w = child_safety_world()
    mod = factories.user()
    cs = factories.case(w.ordinary, policy=w.policies["csam"], images=1)
    spam = factories.case(w.ordinary, policy=w.policies["spam"], images=1)
    reveal_many(mod, cs, 2)  # a second look is a second exposure
    reveal_many(mod, spam, 4)
    assert exposure.reveals_on(mod.id, exposure.utc_today()) == 2
    views = db.session.scalars(select(MediaView).order_by(MediaView.id)).all()
    assert [v.child_safety for v in views] == [True, True, False, False, False, False]


def test_at_the_soft_limit_the_next_child_safety_reveal_waits_for_a_break(ctx, limits):
    w = child_safety_world()
    mod = factories.user()
    cs = factories.case(w.ordinary, policy=w.policies["csam"], images=1)
    spam = factories.case(w.ordinary, policy=w.policies["spam"], images=1)
    reveal_many(mod, cs, 3)

    with pytest.raises(cases.OnBreak) as held:
        cases.reveal(cs.media[0].id, cs.id, mod)
    pause = held.value.pause
    assert timedelta(minutes=9) < pause.ends_at - utcnow() <= timedelta(minutes=10)
    with pytest.raises(cases.OnBreak):  # the same break, not a new one
        cases.reveal(cs.media[0].id, cs.id, mod)
    assert db.session.scalar(select(db.func.count(ExposureBreak.id))) == 1
    cases.reveal(spam.media[0].id, spam.id, mod)  # other work goes on
    assert exposure.reveals_on(mod.id, exposure.utc_today()) == 3

    end_breaks()
    reveal_many(mod, cs, 3)  # 6 today: the next multiple of the soft limit
    with pytest.raises(cases.OnBreak):
        cases.reveal(cs.media[0].id, cs.id, mod)
    assert db.session.scalar(select(db.func.count(ExposureBreak.id))) == 2


def test_at_the_hard_limit_next_case_offers_no_child_safety_case(ctx, limits, app):
    app.config["EXPOSURE_SOFT_LIMIT"] = 0  # no breaks in the way of this test
    w = child_safety_world()
    mod = factories.user()
    cs = factories.case(w.ordinary, policy=w.policies["csam"], images=1, hours_ago=5)
    spam = factories.case(w.ordinary, policy=w.policies["spam"], hours_ago=1)
    assert exposure.may_offer_child_safety(mod)
    assert claims.next_case(w.ordinary.id, mod).case_id == cs.id  # the oldest first
    reveal_many(mod, cs, 5)

    assert not exposure.may_offer_child_safety(mod)
    assert exposure.may_offer_child_safety(mod, exposure.utc_today() + timedelta(days=1))
    assert claims.next_case(w.ordinary.id, mod, after_case_id=cs.id).case_id == spam.id
    claims.release(spam.id, mod)
    assert claims.next_case(w.ordinary.id, mod).case_id == spam.id  # the child-safety one is skipped
    # What they claimed they can still finish.
    cases.reveal(cs.media[0].id, cs.id, mod)
    assert cases.decide(cs.id, "violation", w.policies["csam"].id, mod).case.status == "violation"


def test_next_case_never_offers_a_child_safety_case_to_someone_without_the_permission(ctx, limits):
    w = child_safety_world()
    outsider = factories.user(child_safety=False)
    factories.case(w.ordinary, policy=w.policies["grooming"], hours_ago=5)
    spam = factories.case(w.ordinary, policy=w.policies["spam"], hours_ago=1)
    assert claims.next_case(w.ordinary.id, outsider).case_id == spam.id


def test_a_moderator_sees_their_own_week(ctx, limits):
    w = child_safety_world()
    mod, other = factories.user(), factories.user()
    cs = factories.case(w.ordinary, policy=w.policies["csam"], images=1)
    reveal_many(mod, cs, 2)
    reveal_many(other, cs, 1)
    yesterday = utcnow() - timedelta(days=1)
    db.session.add(MediaView(media_id=cs.media[0].id, user_id=mod.id, viewed_at=yesterday, child_safety=True))
    db.session.commit()

    week = exposure.my_week(mod.id)
    assert [d.reveals for d in week.days] == [0, 0, 0, 0, 0, 1, 2]
    assert week.days[-1].day == exposure.utc_today() and week.total == 3
    assert not week.over_soft and not week.over_hard


def test_admins_see_totals_per_team_and_small_teams_only_together(ctx):
    w = child_safety_world()
    cs = factories.case(w.ordinary, policy=w.policies["csam"], images=1)
    alpha = [factories.user(team="Alpha") for _ in range(3)]
    solo = factories.user(team="Solo")
    duo = [factories.user(team="Duo") for _ in range(2)]
    for person, times in zip([*alpha, solo, *duo], [1, 2, 3, 4, 1, 1], strict=True):
        reveal_many(person, cs, times)

    totals = exposure.team_totals()
    today = exposure.utc_today()
    assert [(t.team, t.people, t.by_day.get(today, 0), t.total) for t in totals.teams] == [
        ("Alpha", 3, 6, 6),
        (exposure.SMALL_TEAMS, 3, 6, 6),  # Solo and Duo: no one person's figure shows
    ]
