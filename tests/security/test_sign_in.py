"""Signing in and out: where the console sends you after, when a session ends, and how guessing is slowed."""

from __future__ import annotations

import html
import re
import threading

from sqlalchemy import func, select

from console.accounts import service
from console.cases.models import Decision
from console.extensions import db
from tests import factories
from tests.conftest import csrf_from
from tests.security.helpers import browser_with_cookie, session_cookie, sign_in

# --- 1. the open redirect after sign-in ---------------------------------------------------------------------


# Off-site targets, 30 of them, for every place that takes a `next`: tests/security/test_next.py.


def test_a_nul_in_next_is_refused_before_anything_happens(ctx, client):
    factories.user("moderator", email="n@example.org")
    response = sign_in(client, "n@example.org", factories.PASSWORD, next_url="/%00/evil.example")
    assert response.status_code == 422 and "Location" not in response.headers
    assert "NUL" in response.text


def test_sign_in_returns_to_the_page_asked_for(ctx, client):
    factories.user("moderator", email="n@example.org")
    response = sign_in(client, "n@example.org", factories.PASSWORD, next_url="/queues/3%3Fstatus%3Dall")
    assert response.headers["Location"] == "/queues/3?status=all"


# --- 2. signing out ends the session everywhere -------------------------------------------------------------


# These tests play several browsers: each request gets its own application context (no `ctx` fixture, whose
# shared context would let one browser's signed-in user leak into the next request through `g`).


def test_a_copied_cookie_is_worthless_after_sign_out(app, client, auth):
    with app.app_context():
        factories.user("moderator", email="m@example.org")
        case_id = factories.case(factories.queue()).id
    auth.login("m@example.org")
    token = csrf_from(client.get("/queues").text)
    stolen = session_cookie(client)

    assert auth.post("/logout").status_code == 302

    thief = browser_with_cookie(app, stolen)
    page = thief.get("/queues")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    decision = thief.post(f"/cases/{case_id}/decision", data={"verdict": "no_violation", "csrf_token": token})
    assert decision.status_code == 302 and "/login" in decision.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Decision.id))) == 0


def test_sign_out_ends_the_users_other_sessions_too(app, client, auth):
    with app.app_context():
        factories.user("moderator", email="m@example.org")
    laptop = app.test_client()
    sign_in(laptop, "m@example.org", factories.PASSWORD)
    auth.login("m@example.org")
    assert laptop.get("/queues").status_code == 200

    auth.post("/logout")

    assert laptop.get("/queues").status_code == 302


def test_password_change_ends_every_session(app, client, auth, runner):
    with app.app_context():
        user_id = factories.user("moderator", email="m@example.org").id
    auth.login("m@example.org")
    assert client.get("/queues").status_code == 200

    result = runner.invoke(args=["accounts", "set-password", "m@example.org"], input="a-new-long-password\n")

    assert result.exit_code == 0, result.output
    assert client.get("/queues").status_code == 302
    with app.app_context():
        assert service.authenticate("m@example.org", "a-new-long-password").id == user_id


def test_deactivation_ends_every_session(app, client, auth, runner):
    with app.app_context():
        factories.user("moderator", email="m@example.org")
    auth.login("m@example.org")

    result = runner.invoke(args=["accounts", "deactivate", "m@example.org"])

    assert result.exit_code == 0, result.output
    assert client.get("/queues").status_code == 302
    assert sign_in(app.test_client(), "m@example.org", factories.PASSWORD).status_code == 401


def test_the_csrf_token_changes_at_sign_in(ctx, client):
    factories.user("moderator", email="m@example.org")
    case = factories.case(factories.queue())
    before = csrf_from(client.get("/login").text)

    sign_in(client, "m@example.org", factories.PASSWORD)

    after = csrf_from(client.get("/queues").text)
    assert after != before
    # A token planted before sign-in (or read off the sign-in page) does not work afterwards.
    data = {"verdict": "no_violation", "csrf_token": before}
    response = client.post(f"/cases/{case.id}/decision", data=data)
    assert response.status_code == 400


# --- sign-in limits -----------------------------------------------------------------------------------------


def test_concurrent_guesses_get_exactly_the_limit_in(app):
    """40 wrong passwords at once used to get 17 tries in against a limit of 10: now exactly 10."""
    app.config["LOGIN_RATE_LIMIT"] = "10 per 5 minutes"
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
    clients = [app.test_client() for _ in range(40)]
    tokens = [csrf_from(c.get("/login").text) for c in clients]
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(c, token):
        start.wait()
        response = c.post(
            "/login", data={"email": "victim@example.org", "password": "wrong-guess", "csrf_token": token}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [401] * 10 + [429] * 30


def test_a_guesser_cannot_lock_the_owner_out(app, client):
    app.config["LOGIN_RATE_LIMIT"] = "3 per 5 minutes"
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
    guesses = [
        sign_in(app.test_client(), "victim@example.org", "wrong", address="198.51.100.7").status_code
        for _ in range(5)
    ]
    assert guesses == [401, 401, 401, 429, 429]

    owner = sign_in(client, "victim@example.org", factories.PASSWORD, address="203.0.113.20")
    assert owner.status_code == 302


def test_one_address_spraying_many_accounts_is_stopped(app):
    app.config["LOGIN_ADDRESS_RATE_LIMIT"] = "5 per 5 minutes"
    statuses = [
        sign_in(app.test_client(), f"user{i}@example.org", "wrong", address="198.51.100.8").status_code
        for i in range(7)
    ]
    assert statuses == [401] * 5 + [429] * 2


def test_many_addresses_at_one_account_meet_the_slower_backstop(app):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "4 per hour"
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
    statuses = [
        sign_in(app.test_client(), "victim@example.org", "wrong", address=f"198.51.100.{i}").status_code
        for i in range(6)
    ]
    assert statuses == [401] * 4 + [429] * 2


def test_signing_in_clears_the_accounts_count_from_that_address(app, client, auth):
    app.config["LOGIN_RATE_LIMIT"] = "3 per 5 minutes"
    with app.app_context():
        factories.user("moderator", email="m@example.org")
    for _ in range(2):
        assert sign_in(app.test_client(), "m@example.org", "typo").status_code == 401
    assert auth.login("m@example.org").status_code == 302
    auth.post("/logout")
    assert [sign_in(app.test_client(), "m@example.org", "typo").status_code for _ in range(3)] == [401] * 3


# --- a stranger cannot lock the owner out (OWASP: device cookies) -----------------------------------------


def _sign_out(client) -> None:
    token = csrf_from(client.get("/queues").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def _owners_browser(app, email: str = "victim@example.org"):
    """The owner's everyday browser: it signed in before, so it holds a device cookie for the account."""
    browser = app.test_client()
    assert sign_in(browser, email, factories.PASSWORD, address="203.0.113.5").status_code == 302
    assert browser.get_cookie("console_device", path="/login") is not None
    _sign_out(browser)
    return browser


def test_many_addresses_guessing_do_not_keep_the_owner_out(app):
    """The sweep's attack (100 wrong passwords from 10 addresses filled the account's window, and the right
    password then got 429), at a tenth of the scale: the owner's browser is held back only by its own
    failures."""
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "20 per hour"
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
    owner = _owners_browser(app)  # its first sign-in counted once in the account's window
    statuses = [
        sign_in(app.test_client(), "victim@example.org", "wrong", address=f"198.51.100.{i}").status_code
        for i in range(10)
        for _ in range(2)
    ]
    assert statuses == [401] * 19 + [429]
    stranger = sign_in(app.test_client(), "victim@example.org", "wrong", address="198.51.100.77")
    assert stranger.status_code == 429  # browsers that never signed in to the account are held back

    assert sign_in(owner, "victim@example.org", factories.PASSWORD, address="192.0.2.99").status_code == 302


def test_one_address_alone_cannot_fill_the_account_wide_window(app):
    app.config.update(
        LOGIN_RATE_LIMIT="1000 per 5 minutes",
        LOGIN_ADDRESS_RATE_LIMIT="1000 per 5 minutes",
        LOGIN_ACCOUNT_RATE_LIMIT="10 per hour",
    )
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
    statuses = [
        sign_in(app.test_client(), "victim@example.org", "wrong", address="198.51.100.7").status_code
        for _ in range(15)
    ]
    assert statuses == [401] * 15
    # It counted for 2 of the 10 (a fifth): the owner on a new laptop, elsewhere, still gets in.
    fresh = sign_in(app.test_client(), "victim@example.org", factories.PASSWORD, address="203.0.113.20")
    assert fresh.status_code == 302


def test_a_trusted_browser_has_its_own_window_and_only_for_its_account(app):
    app.config["LOGIN_DEVICE_RATE_LIMIT"] = "3 per 5 minutes"
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
        factories.user("moderator", email="other@example.org")
    owner = _owners_browser(app)
    assert [sign_in(owner, "victim@example.org", "typo").status_code for _ in range(4)] == [401] * 3 + [429]
    # Its cookie says nothing about another account: there it is an untrusted browser like any other.
    app.config["LOGIN_RATE_LIMIT"] = "2 per 5 minutes"
    assert [sign_in(owner, "other@example.org", "typo").status_code for _ in range(3)] == [401, 401, 429]
    # A forged or altered cookie makes no browser trusted.
    forger = app.test_client()
    forger.set_cookie("console_device", "W1siYWJjIiwieHl6Il1d.forged.signature", path="/login")
    assert [
        sign_in(forger, "victim@example.org", "typo", address="198.51.100.9").status_code for _ in range(3)
    ] == [
        401,
        401,
        429,
    ]


def test_concurrent_strangers_never_hold_back_the_owner_and_a_device_window_stays_exact(app):
    """Real threads at once: 40 strangers guessing while the owner signs in; then 30 concurrent wrong
    passwords from the owner's own browser against its window of 10."""
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "10 per hour"
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
    owner = _owners_browser(app)
    strangers = [app.test_client() for _ in range(40)]
    pages = [(c, csrf_from(c.get("/login").text)) for c in strangers]
    owner_token = csrf_from(owner.get("/login").text)
    start = threading.Barrier(len(strangers) + 1)
    statuses: list[int] = []
    owner_status: list[int] = []

    def guess(c, token, i):
        start.wait()
        response = c.post(
            "/login",
            data={"email": "victim@example.org", "password": "wrong-guess", "csrf_token": token},
            environ_base={"REMOTE_ADDR": f"198.51.100.{i % 8}"},
        )
        statuses.append(response.status_code)

    def owner_signs_in():
        start.wait()
        response = owner.post(
            "/login",
            data={"email": "victim@example.org", "password": factories.PASSWORD, "csrf_token": owner_token},
        )
        owner_status.append(response.status_code)

    threads = [threading.Thread(target=guess, args=(c, t, i)) for i, (c, t) in enumerate(pages)]
    threads.append(threading.Thread(target=owner_signs_in))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert owner_status == [302]
    # The strangers filled the account's window for browsers that never signed in to it; not the owner's.
    assert 429 in statuses and set(statuses) == {401, 429}

    _sign_out(owner)
    tokens = [csrf_from(owner.get("/login").text) for _ in range(30)]
    start = threading.Barrier(30)
    mine: list[int] = []

    def typo(token):
        start.wait()
        response = owner.post(
            "/login", data={"email": "victim@example.org", "password": "typo", "csrf_token": token}
        )
        mine.append(response.status_code)

    threads = [threading.Thread(target=typo, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(mine) == [401] * 10 + [429] * 20


def test_an_admin_sees_the_throttles_and_clears_one(app, client, auth):
    app.config["LOGIN_ACCOUNT_RATE_LIMIT"] = "10 per hour"
    with app.app_context():
        factories.user("moderator", email="victim@example.org")
        factories.user("moderator", email="mod@example.org")
        factories.user("admin", email="admin@example.org")
    for i in range(6):
        for _ in range(2):
            sign_in(app.test_client(), "victim@example.org", "wrong", address=f"198.51.100.{i}")
    refused = sign_in(app.test_client(), "victim@example.org", factories.PASSWORD, address="203.0.113.8")
    assert refused.status_code == 429

    moderator = app.test_client()
    sign_in(moderator, "mod@example.org", factories.PASSWORD)
    assert moderator.get("/settings/sign-in-throttles").status_code == 403

    auth.login("admin@example.org")
    page = client.get("/settings/sign-in-throttles").text
    assert "one account, from browsers that never signed in to it" in page and "victim@example.org" in page
    assert "10 of 10" in page
    throttle_id = re.search(r'name="throttle" value="([^"]+)"', page).group(1)
    cleared = auth.post("/settings/sign-in-throttles/clear", {"throttle": html.unescape(throttle_id)})
    assert cleared.status_code == 302
    assert "No sign-in is held back right now" in client.get("/settings/sign-in-throttles").text
    assert "sign in throttle cleared" in client.get("/settings/audit-log").text

    again = sign_in(app.test_client(), "victim@example.org", factories.PASSWORD, address="203.0.113.8")
    assert again.status_code == 302
