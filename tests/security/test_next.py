"""Every `next` the console takes goes through one check (console/security.safe_next): a path on this site.

The second outside sweep found `/care/break?next=///evil.example` rendering a link Chromium follows to
`http://evil.example/` (`urlsplit` sees no host in `///host`; a browser does).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from console.extensions import db
from tests import factories
from tests.conftest import ROOT, csrf_from
from tests.security.helpers import sign_in

# Values of `next` (as the view reads them, decoded once) that must never leave the site.
OFF_SITE = [
    "///evil.example",
    "////evil.example",
    "//evil.example",
    "//evil.example/%2e%2e",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "\t//evil.example",
    " //evil.example",
    "/ /evil.example",
    "%2F%2Fevil.example",
    "%5C%5Cevil.example",
    "https:evil.example",
    "http:/evil.example",
    "https://evil.example/",
    "HTTPS://EVIL.EXAMPLE/",
    "//x@evil.example",
    "https://queues@evil.example",
    "JaVaScRiPt:alert(1)",
    "javascript://%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\uff0f\uff0fevil.example",  # full-width solidus
    "/\u3000/evil.example",
    "evil.example",
    "",
    "/" + "q" * 2001,
]
# Paths on this site: kept as they are.
ON_SITE = ["/queues", "/queues/3?status=all", "/me/viewing", "/queues/3?after=MjAyNA&status=open"]


def _quoted(value: str) -> str:
    return quote(value, safe="")


@pytest.mark.parametrize("value", OFF_SITE, ids=range(len(OFF_SITE)))
def test_sign_in_never_sends_anyone_off_site(ctx, client, value):
    factories.user("moderator", email="n@example.org")
    response = sign_in(client, "n@example.org", factories.PASSWORD, next_url=_quoted(value))
    assert response.status_code == 302
    assert response.headers["Location"] == "/queues"


@pytest.mark.parametrize("value", OFF_SITE, ids=range(len(OFF_SITE)))
def test_the_break_screen_links_back_only_to_this_site(ctx, client, auth, value):
    factories.user("moderator", email="n@example.org")
    auth.login("n@example.org")
    page = client.get("/care/break?next=" + _quoted(value))
    assert page.status_code == 200
    assert re.search(r'href="([^"]*)">Back to work', page.text).group(1) == "/queues"


@pytest.mark.parametrize("value", ON_SITE)
def test_a_path_on_this_site_is_kept(ctx, client, auth, value):
    factories.user("moderator", email="n@example.org")
    auth.login("n@example.org")
    page = client.get("/care/break?next=" + _quoted(value))
    assert re.search(r'href="([^"]*)">Back to work', page.text).group(1) == value.replace("&", "&amp;")


def test_retrying_a_report_goes_back_only_to_the_reports_pages(ctx, client, auth):
    from console.reporting import filing
    from tests.settings.helpers import make_rule

    factories.user("admin", email="a@example.org")
    tree = factories.policy_tree()
    queue = factories.queue("Child safety", "user_report")
    case = factories.case(queue, images=1)
    report, _ = filing.create_report(case, make_rule(tree, queue), factories.CSAM, triggered_by="human")
    db.session.commit()
    auth.login("a@example.org")
    token = csrf_from(client.get("/queues").text)
    detail = f"/reports/{report.id}"
    for value in [*OFF_SITE, "/queues", "/reportsevil"]:
        response = client.post(f"/reports/{report.id}/retry", data={"csrf_token": token, "next": value})
        assert response.headers["Location"] == detail, value
    kept = client.post(
        f"/reports/{report.id}/retry", data={"csrf_token": token, "next": "/reports?state=failed"}
    )
    assert kept.headers["Location"] == "/reports?state=failed"


def test_every_view_that_reads_next_uses_the_one_check():
    """A new `next` somewhere must go through safe_next too: read every view's source."""
    readers = []
    for path in sorted((ROOT / "console").rglob("*.py")):
        for number, line in enumerate(Path(path).read_text().splitlines(), 1):
            if re.search(r"""(args|form)\.get\(\s*["']next["']""", line):
                readers.append((path.relative_to(ROOT).as_posix(), number, "safe_next(" in line))
    assert len(readers) >= 3
    assert [r for r in readers if not r[2]] == []


@pytest.mark.browser
def test_chromium_resolves_the_break_screens_link_to_this_site(ctx, page, live_server):
    """What a browser makes of the rendered link: the one question that matters."""
    from playwright.sync_api import expect

    from tests.browser.helpers import sign_in as browser_sign_in

    factories.user("moderator", email="n@example.org")
    browser_sign_in(page, "n@example.org")
    for value in ["///evil.example", "/\\evil.example", "/\t/evil.example", "\\\\evil.example", "//x@evil"]:
        page.goto("/care/break?next=" + _quoted(value))
        link = page.get_by_role("link", name="Back to work")
        expect(link).to_be_visible()
        assert link.evaluate("a => a.href") == live_server.url + "/queues", value
