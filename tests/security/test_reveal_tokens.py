"""A revealed file's bytes go only to the page view that revealed it (second outside sweep: a revealed file
came back unblurred after a reload, with no new record, its bytes fetched again)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from console.extensions import db
from console.media.models import MediaView
from tests import factories
from tests.browser.helpers import sign_in

SRC = re.compile(r'src="([^"]+/file\?reveal=[^"]+)"')


def reveal(auth, case_id: int, media_id: int) -> str:
    """Press Reveal (htmx); the address the revealed file loads from."""
    tile = auth.post(f"/cases/{case_id}/media/{media_id}/reveal", htmx=True, token_from=f"/cases/{case_id}")
    assert tile.status_code == 200
    return SRC.search(tile.text).group(1)


def views() -> int:
    return db.session.scalar(select(func.count()).select_from(MediaView))


def test_a_reload_starts_hidden_and_the_bytes_need_the_reveal_made_on_the_page(ctx, app, client, auth):
    mod = factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue(), images=2)
    first, second = c.media
    auth.login("m@example.org")

    src = reveal(auth, c.id, first.id)
    served = client.get(src)
    assert served.status_code == 200 and served.headers["Cache-Control"] == "no-store"
    assert views() == 1

    # The reload: hidden and blurred again, and the plain address of the file serves nothing.
    page = client.get(f"/cases/{c.id}").text
    assert "/file" not in page and f'id="media-{first.id}"' in page and "Reveal</button>" in page
    assert client.get(f"/cases/{c.id}/media/{first.id}/file").status_code == 403
    # Another look is another recorded reveal, with its own token.
    again = reveal(auth, c.id, first.id)
    assert again != src and client.get(again).status_code == 200 and views() == 2

    # A token is for its file and its person only, and only for a short while.
    assert client.get(src.replace(f"/media/{first.id}/", f"/media/{second.id}/")).status_code == 403
    assert client.get(f"/cases/{c.id}/media/{first.id}/file?reveal=forged.token").status_code == 403
    from console.cases import showings

    colleague = factories.user("moderator", email="other@example.org")
    token = src.rpartition("reveal=")[2]
    assert showings.reveal_for(token, first.id, colleague.id) is None
    assert showings.reveal_for(token, first.id, mod.id) is not None
    app.config["REVEAL_TOKEN_SECONDS"] = -1
    assert client.get(src).status_code == 403
    assert views() == 2


def test_without_javascript_the_revealed_page_carries_its_own_token(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue(), images=1)
    auth.login("m@example.org")
    page = auth.post(f"/cases/{c.id}/media/{c.media[0].id}/reveal", token_from=f"/cases/{c.id}")
    assert page.status_code == 200
    assert client.get(SRC.search(page.text).group(1)).status_code == 200
    assert "/file" not in client.get(f"/cases/{c.id}").text


@pytest.mark.browser
def test_chromium_shows_the_file_once_per_reveal_and_hidden_after_a_reload(ctx, page):
    factories.user("moderator", email="m@example.org")
    c = factories.case(factories.queue("User reports"), images=1)
    case_id, media_id = c.id, c.media[0].id
    db.session.rollback()
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "/file" in r.url else None)

    sign_in(page, "m@example.org")
    page.goto(f"/cases/{case_id}")
    item = page.locator(f"#media-{media_id}")
    item.get_by_role("button", name=re.compile("Reveal")).click()
    expect(item.locator("img.grayscale")).to_be_visible()
    assert page.evaluate(f"document.querySelector('#media-{media_id} img').naturalWidth") > 0
    assert len(fetched) == 1

    page.reload()
    expect(item.locator("img.preview")).to_be_visible()
    expect(item.locator("img.grayscale")).to_have_count(0)
    page.go_back()
    page.go_forward()
    expect(page.locator(f"#media-{media_id} img.preview")).to_be_visible()
    assert len(fetched) == 1  # no byte of the file came back without a new reveal
    db.session.expire_all()
    assert views() == 1
