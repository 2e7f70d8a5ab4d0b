"""In Chromium: child-safety material stays closed without the permission; exposure care; safe video."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from console.childsafety.models import ExposureBreak
from console.extensions import db
from console.media import storage
from console.timeutil import utcnow
from tests import factories
from tests.browser.helpers import sign_in
from tests.childsafety.helpers import child_safety_world, reveal_many

pytestmark = pytest.mark.browser


def status_of(page, url: str) -> int:
    """What the browser gets for a URL fetched from the page, as a file or a dialog would be."""
    return page.evaluate("url => fetch(url).then(r => r.status)", url)


def test_without_the_permission_the_case_its_media_and_the_dialog_stay_closed(ctx, page):
    w = child_safety_world()
    factories.user(email="noor@example.org", name="Noor", child_safety=False)
    cs = factories.case(w.team_queue, text="restricted content", images=1)
    by_policy = factories.case(w.ordinary, text="alleged grooming", policy=w.policies["grooming"])
    factories.case(w.ordinary, text="ordinary spam", policy=w.policies["spam"])
    ids = cs.id, cs.media[0].id, by_policy.id
    team_queue, ordinary, team_queue_id = w.team_queue.name, w.ordinary.name, w.team_queue.id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "noor@example.org")
    expect(page.get_by_role("link", name=team_queue)).to_have_count(0)
    page.get_by_role("link", name=ordinary).click()
    expect(page.get_by_text("ordinary spam")).to_be_visible()
    expect(page.get_by_text("alleged grooming")).to_have_count(0)

    case_id, media_id, other_id = ids
    for url in (f"/cases/{case_id}", f"/cases/{other_id}", f"/cases/{case_id}/ncmec-report"):
        page.goto(url)
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page.get_by_text("only people with the child-safety permission see it")).to_be_visible()
        expect(page.get_by_text("restricted content")).to_have_count(0)
    for url in (
        f"/cases/{case_id}/media/{media_id}/file",
        f"/cases/{case_id}/media/{media_id}/preview",
        f"/cases/{case_id}/ncmec-report",
        f"/queues/{team_queue_id}",
    ):
        assert status_of(page, url) == 403, url


def test_over_the_soft_limit_a_reveal_brings_the_break_screen(app, ctx, page):
    app.config.update(EXPOSURE_SOFT_LIMIT=2, EXPOSURE_BREAK_MINUTES=10)
    w = child_safety_world()
    from console.childsafety import service as care
    from console.childsafety.viewing import defaults

    care.save_care_settings(
        care.CareFields(defaults(), "https://intranet.example/wellbeing", "Talk to the wellbeing team"),
        actor_label="test",
    )
    mod = factories.user(email="mo@example.org")
    c = factories.case(w.team_queue, images=2)
    reveal_many(mod, c, 2)
    case_id, second_id = c.id, c.media[1].id
    db.session.rollback()

    sign_in(page, "mo@example.org")
    page.goto(f"/cases/{case_id}")
    page.locator(f"#media-{second_id}").get_by_role("button", name=re.compile("Reveal")).click()

    expect(page.get_by_role("heading", name="Take a break")).to_be_visible()
    expect(page.get_by_role("timer")).to_have_text(re.compile(r"^(10:00|9:\d\d) left$"))
    expect(page.get_by_role("link", name="Talk to the wellbeing team")).to_be_visible()
    expect(page.get_by_role("link", name="Back to work")).to_be_hidden()  # until the timer ends

    # The break ends (as if ten minutes went by): the way back appears, and the reveal goes through.
    db.session.execute(update(ExposureBreak).values(ends_at=utcnow() + timedelta(seconds=2)))
    db.session.commit()
    page.reload()
    expect(page.get_by_role("timer")).to_have_text("Your break is over.", timeout=6_000)
    page.get_by_role("link", name="Back to work").click()
    item = page.locator(f"#media-{second_id}")
    item.get_by_role("button", name=re.compile("Reveal")).click()
    expect(item.get_by_text("Viewed by you")).to_be_visible()


def test_over_the_hard_limit_next_case_offers_no_child_safety_case(app, ctx, page):
    app.config.update(EXPOSURE_SOFT_LIMIT=0, EXPOSURE_HARD_LIMIT=3)
    w = child_safety_world()
    mod = factories.user(email="mo@example.org")
    seen = factories.case(w.team_queue, images=1)
    reveal_many(mod, seen, 3)
    factories.case(w.ordinary, text="oldest, child safety", policy=w.policies["csam"], hours_ago=9)
    spam = factories.case(w.ordinary, text="newer spam", policy=w.policies["spam"], hours_ago=1)
    factories.case(w.team_queue, text="waiting in the team queue", hours_ago=9)
    spam_id, ordinary_id, team_id = spam.id, w.ordinary.id, w.team_queue.id
    db.session.rollback()

    sign_in(page, "mo@example.org")
    page.goto(f"/queues/{ordinary_id}")
    page.get_by_role("button", name="Start reviewing").click()
    expect(page.get_by_role("heading", name=re.compile(f"Case #{spam_id}"))).to_be_visible()

    page.goto(f"/queues/{team_id}")
    expect(page.get_by_text("waiting in the team queue")).to_be_visible()  # listed: they may still see it
    page.get_by_role("button", name="Start reviewing").click()
    expect(page.get_by_text("You reached today's limit of child-safety reveals")).to_be_visible()


def test_a_video_shows_a_blurred_poster_and_plays_only_after_reveal(ctx, page):
    w = child_safety_world()
    mod = factories.user(email="mo@example.org")
    c = factories.case(w.team_queue, text="a video")
    media = storage.store(c.id, "clip.webm", io.BytesIO(factories.webm_bytes(2, frames=45)), "video/webm")
    db.session.commit()
    assert storage.make_preview(media.id)  # what the worker does after ingestion
    case_id, media_id, mod_id = c.id, media.id, mod.id
    db.session.rollback()

    sign_in(page, "mo@example.org")
    page.goto(f"/cases/{case_id}")
    item = page.locator(f"#media-{media_id}")
    poster = item.locator("img.preview")
    expect(poster).to_be_visible()
    expect(poster).to_have_css("filter", re.compile(r"blur\(14px\) grayscale\(1\)"))
    expect(item.locator("video")).to_have_count(0)
    assert status_of(page, f"/cases/{case_id}/media/{media_id}/file") == 403

    item.get_by_role("button", name=re.compile("Reveal")).click()
    video = item.locator("video")
    expect(video).to_have_attribute("poster", f"/cases/{case_id}/media/{media_id}/preview")
    expect(video).to_have_css("filter", re.compile("blur"))  # the poster stays blurred until it plays
    assert video.evaluate("v => v.paused && v.muted")
    video.evaluate("v => v.play()")
    for _ in range(50):  # it plays: time moves on (wait_for_function would need eval, which the CSP forbids)
        if video.evaluate("v => v.currentTime") > 0.2:
            break
        page.wait_for_timeout(100)
    assert video.evaluate("v => v.currentTime > 0.2 && !v.error")
    expect(video).to_have_css("filter", "grayscale(1)")
    db.session.expire_all()
    assert [v.user_id for v in db.session.get(type(media), media_id).views] == [mod_id]


def test_revealed_media_blurs_again_after_the_chosen_seconds(ctx, page):
    w = child_safety_world()
    mod = factories.user(email="mo@example.org")
    from console.childsafety import service as care
    from console.childsafety.viewing import Viewing

    care.save_preferences(mod.id, Viewing(30, True, 1, False, True, True))
    c = factories.case(w.ordinary, images=1)
    case_id, media_id = c.id, c.media[0].id
    db.session.rollback()

    sign_in(page, "mo@example.org")
    page.goto(f"/cases/{case_id}")
    item = page.locator(f"#media-{media_id}")
    expect(item.locator("img.preview")).to_have_css("filter", re.compile(r"blur\(30px\)"))
    item.get_by_role("button", name=re.compile("Reveal")).click()
    expect(item.locator("img.grayscale")).to_have_css("filter", "grayscale(1)")
    expect(item).to_have_class(re.compile("reblurred"), timeout=4_000)
    expect(item.locator("img.grayscale")).to_have_css("filter", re.compile(r"blur\(30px\)"))
    item.get_by_role("button", name=re.compile("Reveal again")).click()  # another look, another record
    expect(item).not_to_have_class(re.compile("reblurred"))
    db.session.expire_all()
    from console.media.models import MediaView

    assert db.session.query(MediaView).count() == 2
