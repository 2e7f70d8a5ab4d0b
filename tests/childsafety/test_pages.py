"""Settings → Child safety and Moderator care (admins), a moderator's own page, the break screen."""

from __future__ import annotations

import re

from sqlalchemy import select

from console.audit import AuditEvent
from console.cases import service as cases
from console.childsafety import viewing
from console.extensions import db
from tests import factories
from tests.childsafety.helpers import child_safety_world, reveal_many
from tests.conftest import AuthActions

SETTINGS = "/settings/child-safety"
CARE = "/settings/child-safety/care"


def test_an_admin_grants_the_permission_and_it_applies_at_once(app, client, auth):
    # Two browsers at once: no app context held by the test between requests (it would share `g`).
    with app.app_context():
        w = child_safety_world()
        factories.user("admin", email="a@example.org")
        mod_id = factories.user(email="m@example.org", name="Noor", child_safety=False).id
        case_id, team_queue = factories.case(w.team_queue, text="restricted content").id, w.team_queue.name
    other = app.test_client()
    AuthActions(other).login("m@example.org")
    assert other.get(f"/cases/{case_id}").status_code == 403
    assert team_queue not in other.get("/queues").text

    auth.login("a@example.org")
    assert "Not granted" in client.get(SETTINGS).text
    response = auth.post(f"{SETTINGS}/users/{mod_id}/access", {"granted": "1"}, token_from=SETTINGS)
    assert response.status_code == 302
    assert "Noor now has the child-safety permission" in client.get(SETTINGS).text

    assert "restricted content" in other.get(f"/cases/{case_id}").text  # the same session, no new sign-in
    auth.post(f"{SETTINGS}/users/{mod_id}/access", {"granted": "0"}, token_from=SETTINGS)
    assert other.get(f"/cases/{case_id}").status_code == 403
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.object_id == str(mod_id), AuditEvent.action != "signed_in"
            )
        ).all()
    assert actions == ["child_safety_granted", "child_safety_revoked"]


def test_an_admin_marks_queues_and_policies_and_sets_teams(ctx, client, auth):
    policies = factories.policy_tree()
    q = factories.queue("Escalations")
    factories.user("admin", email="a@example.org")
    mod = factories.user()
    auth.login("a@example.org")
    auth.post(
        f"{SETTINGS}/marks",
        {"queues": [str(q.id)], "policies": [str(policies["child-safety"].id)]},
        token_from=SETTINGS,
    )
    auth.post(f"{SETTINGS}/users/{mod.id}/team", {"team": "  Child   safety EU "}, token_from=SETTINGS)
    db.session.expire_all()
    assert q.child_safety and policies["child-safety"].child_safety and not policies["csam"].child_safety
    assert mod.team == "Child safety EU"
    page = client.get(SETTINGS).text
    assert re.search(rf'name="queues" value="{q.id}" id="queue-{q.id}" checked', page)

    bad = auth.post(f"{SETTINGS}/users/{mod.id}/team", {"team": "x" * 81}, token_from=SETTINGS)
    assert bad.status_code == 422 and "at most 80" in bad.text


def test_admins_set_defaults_and_support_and_see_team_totals_not_people(ctx, client, auth):
    w = child_safety_world()
    factories.user("admin", email="a@example.org", team="Leads")
    mod = factories.user(name="Private Person", team="Night shift")
    reveal_many(mod, factories.case(w.team_queue, images=1), 2)
    auth.login("a@example.org")
    form = {
        "blur_px": "24",
        "grayscale": "y",
        "reblur_seconds": "30",
        "video_muted": "y",
        "video_paused": "y",
        "support_label": "Wellbeing team",
        "support_url": "https://intranet.example/wellbeing",
        "escalation_queue": str(w.team_queue.id),
    }
    assert auth.post(CARE, form, token_from=CARE).status_code == 302
    assert viewing.defaults() == viewing.Viewing(24, True, 30, False, True, True)
    page = client.get(CARE).text
    assert "Teams of fewer than 3 people" in page and "Private Person" not in page

    refused = auth.post(
        CARE, {**form, "support_url": "javascript:alert(1)", "blur_px": "99"}, token_from=CARE
    )
    assert refused.status_code == 422 and "http(s) address" in refused.text and "4 to 40" in refused.text


def test_a_moderator_chooses_how_media_is_shown_to_them(ctx, client, auth):
    w = child_safety_world()
    factories.user(email="m@example.org")
    c = factories.case(w.ordinary, images=1)
    auth.login("m@example.org")
    page = client.get("/me/viewing").text
    assert "defaults, until you save your own" in page and 'value="14"' in page

    saved = auth.post(
        "/me/viewing",
        {"blur_px": "30", "reblur_seconds": "5", "reblur_on_leave": "y"},
        token_from="/me/viewing",
    )
    assert saved.status_code == 302
    case_page = client.get(f"/cases/{c.id}").text
    assert 'data-blur="30"' in case_page and 'data-reblur-seconds="5"' in case_page
    assert 'data-reblur-on-leave="1"' in case_page
    tile = auth.post(
        f"/cases/{c.id}/media/{c.media[0].id}/reveal", htmx=True, token_from=f"/cases/{c.id}"
    ).text
    assert 'class="in-colour"' in tile  # grayscale was left unticked

    auth.post("/me/viewing/reset", token_from="/me/viewing")
    assert 'data-blur="14"' in client.get(f"/cases/{c.id}").text


def test_over_the_soft_limit_a_reveal_leads_to_the_break_screen(app, ctx, client, auth):
    app.config.update(EXPOSURE_SOFT_LIMIT=2, EXPOSURE_BREAK_MINUTES=5)
    w = child_safety_world()
    mod = factories.user(email="m@example.org")
    c = factories.case(w.team_queue, images=1)
    reveal_many(mod, c, 2)
    auth.login("m@example.org")
    url = f"/cases/{c.id}/media/{c.media[0].id}/reveal"

    response = auth.post(url, token_from=f"/cases/{c.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/care/break?next=")
    screen = client.get(response.headers["Location"]).text
    assert "Take a break" in screen and "data-countdown" in screen and f'href="/cases/{c.id}"' in screen
    htmx = auth.post(url, htmx=True, token_from=f"/cases/{c.id}")
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].startswith("/care/break")
    assert len(c.media[0].views) == 2  # nothing more was revealed
    # What they revealed before shows hidden during the break, and is not served.
    assert f"/media/{c.media[0].id}/file" not in client.get(f"/cases/{c.id}").text
    assert client.get(f"/cases/{c.id}/media/{c.media[0].id}/file").status_code == 403


def test_the_audit_log_keeps_child_safety_details_from_admins_without_the_permission(ctx, client, auth):
    w = child_safety_world()
    holder = factories.user()
    factories.user("admin", email="a@example.org", child_safety=False)
    c = factories.case(w.team_queue, images=1)
    c.media[0].original_name = "telling-name.png"
    db.session.commit()
    cases.reveal(c.media[0].id, c.id, holder)
    auth.login("a@example.org")
    page = client.get("/settings/audit-log").text
    assert "media revealed" in page and "telling-name" not in page and "details are shown to holders" in page
