"""The stored NCMEC password goes only where it was entered for, over https (or to this machine)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select, text

from console.audit import AuditEvent
from console.extensions import db
from console.ncmec.constants import PRODUCTION_URL, TEST_URL
from console.reporting import agencies, credentials
from console.settings import service
from tests.settings.helpers import PAGE, SECRET, admin_world, connect


@pytest.fixture
def collector():
    """A server of the admin's own on this machine that records every Authorization header it is sent."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.seen = seen
    server.url = f"http://127.0.0.1:{server.server_port}/ispws"
    yield server
    server.shutdown()


def urls_called_by_test_connection() -> list:
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "agency_connection_tested"))
    return [e.details.get("url") for e in events]


def test_an_admin_cannot_send_the_stored_password_to_a_server_of_their_own(ctx, client, auth, collector):
    """The reported hole: new base URL, password left blank (kept), Test connection → Basic auth to them."""
    admin_world()
    connect("http://127.0.0.1:9/ispws", "esp-user", SECRET)
    auth.login("admin@example.org")
    agency_id = agencies.ncmec().id

    saved = auth.post(
        f"{PAGE}/agencies/{agency_id}/connection",
        {"environment": "custom", "custom_base_url": collector.url, "username": "esp-user", "password": ""},
        token_from=PAGE,
    )
    auth.post(f"{PAGE}/agencies/{agency_id}/test", token_from=PAGE)

    assert saved.status_code == 422 and "Enter the password again" in saved.text
    assert collector.seen == []
    db.session.expire_all()
    assert agencies.ncmec().custom_base_url == "http://127.0.0.1:9/ispws"
    # The audit log says where the test connection went: the old address, not the collector.
    assert urls_called_by_test_connection() == ["http://127.0.0.1:9/ispws"]


@pytest.mark.parametrize(
    "url, refused",
    [
        ("http://collector.example/ispws", "Use https://"),
        ("http://10.0.0.5:8765/ispws", "Use https://"),
        ("https://user:pw@collector.example/ispws", "without a user name or password"),
        ("https://collector.example/ispws?x=1", "without ?query"),
        ("https://collector.example/is pws", "without spaces or control characters"),
        ("ftp://collector.example/", "starting with https://"),
    ],
)
def test_a_custom_url_must_be_https_unless_it_is_this_machine(ctx, url, refused):
    agency = agencies.ncmec()
    with pytest.raises(service.SettingsError) as raised:
        service.configure_agency(
            agency.id, environment="custom", custom_base_url=url, username="u", password=SECRET
        )
    assert refused in raised.value.errors["custom_base_url"]


@pytest.mark.parametrize(
    "url",
    [
        "https://ncmec-proxy.example/ispws",
        "http://127.0.0.1:8765/ispws",
        "http://localhost:8765/ispws",
        "http://[::1]:8765/ispws",
    ],
)
def test_https_and_the_local_simulator_are_accepted(ctx, url):
    agency = service.configure_agency(
        agencies.ncmec().id, environment="custom", custom_base_url=url, username="u", password=SECRET
    )
    assert agencies.base_url(agency) == url


@pytest.mark.parametrize("environment, fixed", [("production", PRODUCTION_URL), ("test", TEST_URL)])
def test_production_and_test_are_ncmecs_fixed_https_urls(ctx, environment, fixed):
    agency = service.configure_agency(
        agencies.ncmec().id,
        environment=environment,
        custom_base_url="http://collector.example/ispws",
        username="u",
        password=SECRET,
    )
    assert agency.custom_base_url == "" and agencies.base_url(agency) == fixed
    assert fixed.startswith("https://")


def test_a_stored_plain_http_url_from_before_the_rule_gets_no_password(ctx, collector):
    connect("http://127.0.0.1:9/ispws", "esp-user", SECRET)
    # Written before this rule existed (or by hand): plain http to another machine.
    db.session.execute(text("UPDATE agencies SET custom_base_url='http://collector.example/ispws'"))
    db.session.commit()

    check = service.check_connection(agencies.ncmec().id)

    assert check.status == "error" and "Nothing was sent" in check.message
    assert urls_called_by_test_connection() == [None]
    with pytest.raises(agencies.UnsafeBaseUrl):
        agencies.client_for(agencies.ncmec(), connect_timeout=1, read_timeout=1)
    assert credentials.decrypt(agencies.ncmec().password_encrypted) == SECRET
