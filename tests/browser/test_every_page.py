"""Every page and dialog state, in Chromium: axe-core finds no violation of any impact, and nothing is wider
than the window at 390, 768, 1024 and 1440 px (no table spilling out of its card either).

The pages come from the app's URL map, their ids from the demo world (tests/browser/world.py): a page added
to the console is checked without anyone listing it, and a GET route that is not a page must say why below.
axe-core is npm's, installed from tests/browser/axe's lock file by scripts/ensure-axe (make test runs it);
the console's CSP refuses injected scripts, so these contexts bypass it (DEPENDENCIES.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from console.extensions import db
from demo_platform import PlatformServer
from tests.browser import world
from tests.conftest import BROWSER_TIMEOUT_MS, IN_CI
from tests.reporting.test_dialog import run_jobs
from tests.webhooks.conftest import SECRET

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (390, 768, 1024, 1440)

# GET routes that are not a page a person reads, and why.
NOT_PAGES = {
    "static": "files",
    "api.health": "JSON",
    "ops.healthz": "probe",
    "ops.readyz": "probe",
    "ops.metrics": "Prometheus text",
    "ops.banner": "a fragment of every admin page",
    "cases.claim_status": "a fragment of the case page",
    "cases.media_file": "media bytes",
    "cases.media_preview": "media bytes",
    "reporting.case_status": "a fragment of the case page",
    "reporting.preview_report": "a fragment of the dialog",
    "reporting.preview_bundle": "a fragment of the dialog",
    "webhooks.decision_actions": "a fragment of the case page",
    "reporting.report_xml": "XML download",
    "reporting.file_xml": "XML download",
    "transparency.export": "CSV download",
    "queues.home": "redirects to the Queues page",
}
# Routes whose page needs a query string to be the page it is.
QUERIES = {"reporting.new_bundle": "?case={waiting_case}"}


@dataclass
class State:
    name: str
    user: str | None  # who is signed in (None: nobody)
    url: str  # a path of the console, or a full URL (the simulator's and the demo platform's pages)
    act: object = None  # what a person does on the page first (opens a dialog, reveals a file)


@pytest.fixture
def demo_platform():
    server = PlatformServer(SECRET).start()
    yield server
    server.shutdown()


@pytest.fixture
def demo_world(ctx, ncmec_simulator, demo_platform, live_server):
    built = world.build(ctx, ncmec_simulator, demo_platform.webhook_url, SECRET, run_jobs)
    db.session.commit()
    db.session.remove()  # the live server writes too (claims, views): hold no transaction
    return built, ncmec_simulator, demo_platform


def page_urls(app, ids: dict[str, int]) -> dict[str, str]:
    """endpoint → path, for every GET route of the app that is a page."""
    urls = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        missing = [a for a in rule.arguments if a not in ids]
        assert not missing, f"{rule.rule}: the demo world has no id for {missing} (tests/browser/world.py)"
        path = rule.build({a: ids[a] for a in rule.arguments}, append_unknown=False)[1]
        urls.setdefault(rule.endpoint, path + QUERIES.get(rule.endpoint, "").format(**ids))
    return urls


def open_dialog(link_name: str, dialog_name: str):
    def act(page):
        page.get_by_role("link", name=link_name).first.click()
        page.get_by_role("dialog", name=dialog_name).wait_for()

    act.__name__ = f"open the dialog {dialog_name!r}"
    return act


def reveal_first(page):
    page.get_by_role("button", name=re.compile("^Reveal")).first.click()
    page.get_by_text("Viewed by you").first.wait_for()


def keys_help(page):
    page.locator("body").press("?")
    page.get_by_role("dialog", name=re.compile("Keys|Keyboard")).wait_for()


def bundle_dialog(page):
    page.get_by_role("checkbox", name=re.compile("Include in one NCMEC report")).first.check()
    page.get_by_role("button", name=re.compile("Report selected to NCMEC")).click()
    page.get_by_role("dialog", name="Report to NCMEC").wait_for()


def open_details(summary: str):
    def act(page):
        page.locator("summary", has_text=summary).first.click()

    act.__name__ = f"open {summary!r}"
    return act


def states(app, built: world.World, simulator, platform) -> list[State]:
    ids = {**built.ids}
    result = [State("sign-in", None, "/login")]
    result += [State(endpoint, world.ADMIN, path) for endpoint, path in sorted(page_urls(app, ids).items())]
    case, waiting, still_open = (
        f"/cases/{i}" for i in (built.reported_case, built.waiting_case, built.open_case)
    )
    result += [
        State("case: a file revealed", world.MODERATOR, still_open, reveal_first),
        State(
            "case: the NCMEC dialog",
            world.MODERATOR,
            waiting,
            open_dialog("Report to NCMEC", "Report to NCMEC"),
        ),
        State("case: keys help", world.MODERATOR, still_open, keys_help),
        State("case: escalate open", world.MODERATOR, still_open, open_details("Escalate")),
        State("case: reported, as its moderator", world.MODERATOR, case),
        State(
            "reported user: one CyberTip",
            world.MODERATOR,
            f"/reported-users/{ids['reported_user_id']}",
            bundle_dialog,
        ),
        State("case: without the child-safety permission", world.OTHER_MODERATOR, case),
        State("settings, refused to a moderator", world.OTHER_MODERATOR, "/settings/"),
        State("queues, as a moderator", world.OTHER_MODERATOR, "/queues"),
        State("the simulator's page", None, simulator.root_url + "/"),
        State("the demo platform's page", None, platform.root_url + "/"),
    ]
    return result


class Browsing:
    """One signed-in page per person, reused from state to state."""

    def __init__(self, browser, base_url: str):
        self.browser, self.base_url, self.pages = browser, base_url, {}

    def page_for(self, user: str | None):
        if user not in self.pages:
            context = self.browser.new_context(base_url=self.base_url, bypass_csp=True)
            context.set_default_timeout(BROWSER_TIMEOUT_MS)
            page = context.new_page()
            if user:
                page.goto("/login")
                page.get_by_label("Email").fill(user)
                page.get_by_label("Password").fill(world.PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(re.compile(r"/queues"))
            self.pages[user] = page
        return self.pages[user]

    def show(self, state: State, width: int = 1280, act_timeout: int = BROWSER_TIMEOUT_MS):
        page = self.page_for(state.user)
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(state.url)
        page.wait_for_load_state("networkidle")
        if state.act:
            page.set_default_timeout(act_timeout)
            try:
                state.act(page)
            finally:
                page.set_default_timeout(BROWSER_TIMEOUT_MS)
        return page

    def close(self):
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def browsing(browser, live_server):
    b = Browsing(browser, live_server.url)
    yield b
    b.close()


def axe_path() -> Path:
    if not AXE.exists():
        if IN_CI:
            pytest.fail(f"CI must run the accessibility checks but {AXE} is missing (scripts/ensure-axe)")
        pytest.skip("axe-core is not installed: scripts/ensure-axe (make test runs it)")
    return AXE


AXE_RUN = """async () => {
  const result = await axe.run(document, {
    resultTypes: ['violations'],
    rules: {'label-content-name-mismatch': {enabled: true}},
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 4).map(n => n.target.join(' ')),
    count: v.nodes.length,
  }));
}"""


OVERFLOW = """() => {
  const out = [];
  const doc = document.documentElement;
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.')
     : '');
  const innermost = (root, edge) => {
    const wide = [...root.querySelectorAll('*')].filter(d => d.getBoundingClientRect().right > edge);
    return wide.filter(d => !wide.some(o => o !== d && d.contains(o))).slice(0, 2)
      .map(d => `${name(d)} "${(d.textContent || '').trim().slice(0, 30)}"`).join(', ');
  };
  if (doc.scrollWidth > window.innerWidth + 1) {
    out.push(`the page is ${doc.scrollWidth}px wide (${innermost(document.body, window.innerWidth + 1)})`);
  }
  // A card or dialog whose content is wider than itself: a table spilling out, or a scroller hiding columns.
  for (const el of document.querySelectorAll('.card, dialog[open], main, .table-scroll')) {
    if (el.scrollWidth > el.clientWidth + 1) {
      const scrolls = ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
      if (scrolls && window.innerWidth < 1024) continue;  // a phone's table scrolls inside its card
      const culprits = innermost(el, el.getBoundingClientRect().right + 1);  // what to fix
      out.push(`${name(el)}: content ${el.scrollWidth}px in ${el.clientWidth}px (${culprits})`);
    }
  }
  // A hash (a seal, a SHA-256) wrapping a lone character or three onto a line of its own.
  for (const el of document.querySelectorAll('.hash')) {
    const lines = new Map();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (let i = 0; i < n.length; i++) {
        if (/\\s/.test(n.data[i])) continue;
        const range = document.createRange();
        range.setStart(n, i); range.setEnd(n, i + 1);
        const rect = range.getBoundingClientRect();
        if (rect.width) lines.set(Math.round(rect.top), (lines.get(Math.round(rect.top)) || 0) + 1);
      }
    }
    const fewest = Math.min(...lines.values());
    if (lines.size > 1 && fewest < 4) out.push(`${name(el)}: a hash wraps, ${fewest} character(s) on a line`);
  }
  return out;
}"""


def walk(app, demo_world, browsing, part: int, parts: int) -> None:
    """Each state of this part, opened once and seen at every width (the window resized, as a phone turned
    or a window dragged: the page lays itself out again) and, at the widest, checked by axe-core.

    A page is loaded once, not once per width: the load and the wait for the network to go quiet were
    most of the walk's time (188 loads, 2 min 53 s; the layout checks themselves take milliseconds)."""
    if IN_CI:
        axe_path()  # CI runs every check: a missing axe-core is a failure there
    axe = AXE if AXE.exists() else None
    built, simulator, platform = demo_world
    violations, overflows = [], []
    every = states(app, built, simulator, platform)
    assert len(every) > 40
    checked = every[part::parts]
    for state in checked:
        try:
            page = browsing.show(state, WIDTHS[0], act_timeout=5_000)
        except PlaywrightError as e:  # a button under another column, a dialog that cannot open
            overflows.append(
                f"{WIDTHS[0]}px {state.name} ({state.url}): could not {state.act.__name__}: "
                f"{str(e).splitlines()[-1].strip()}"
            )
            continue
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            overflows += [f"{width}px {state.name} ({state.url}): {p}" for p in page.evaluate(OVERFLOW)]
        if axe:
            page.add_script_tag(path=str(axe))
            violations += [
                f"{state.name} ({state.url}): {v['impact']} {v['id']} ×{v['count']} — {v['help']}: "
                f"{v['targets']}"
                for v in page.evaluate(AXE_RUN)
            ]
    problems = []
    if violations:
        problems.append(
            f"axe-core, {len(violations)} violations over {len(checked)} states:\n" + "\n".join(violations)
        )
    if overflows:
        problems.append(f"{len(overflows)} overflows:\n" + "\n".join(overflows))
    assert not problems, "\n\n".join(problems)
    if axe is None:
        axe_path()  # the widths were checked; say that axe-core was not


# Two halves of the states, each in a class of its own: pytest-xdist hands out a module's functions together
# but each class on its own (make test's --dist loadscope), so the halves run on both cores, each with its
# own demo world.
class TestEveryPageFirstHalf:
    def test_axe_finds_nothing_and_nothing_is_wider_than_the_window(self, app, demo_world, browsing):
        walk(app, demo_world, browsing, 0, 2)


class TestEveryPageSecondHalf:
    def test_axe_finds_nothing_and_nothing_is_wider_than_the_window(self, app, demo_world, browsing):
        walk(app, demo_world, browsing, 1, 2)
