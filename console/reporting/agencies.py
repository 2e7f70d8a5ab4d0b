"""The NCMEC agency: where it is, how we sign in, and a client for it."""

from __future__ import annotations

from sqlalchemy import select

from console import urlguard
from console.evidence import replies
from console.extensions import db
from console.ncmec import CyberTiplineClient, base_url_for
from console.ncmec.errors import NeedsAdminError
from console.reporting import credentials
from console.reporting.models import Agency

CUSTOM_URL_MAX = 500  # agencies.custom_base_url


class UnsafeBaseUrl(NeedsAdminError, ValueError):
    """A stored custom base URL the console will not send the password to (e.g. one saved before the rule)."""


def custom_url_problem(url: str) -> str | None:
    """Why the console must not send NCMEC credentials to ``url``, or None.

    The password travels in an Authorization header on every call: only over https, except to this machine
    itself (the local CyberTipline simulator), where nothing crosses a network (console/urlguard.py).
    """
    return urlguard.url_problem(
        url,
        max_len=CUSTOM_URL_MAX,
        plain_http_ok=is_loopback,
        example="https://ncmec.example/ispws",
        name="base URL",
        http_hint="Use https:// — plain http is allowed only for this machine (127.0.0.1, the local "
        "simulator).",
    )


is_loopback = urlguard.is_loopback


def ncmec() -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.slug == "ncmec"))
    if agency is None:  # the migration creates it; a missing row is an operator error worth a clear message
        raise LookupError("the NCMEC agency row is missing: run `flask db upgrade`")
    return agency


def base_url(agency: Agency) -> str:
    """Where the agency's calls go: NCMEC's fixed https URLs, or a custom URL that passes the rule above.

    Checked again here, at use, not only when saved: a row written before the rule existed must not send the
    password anywhere either. Raises UnsafeBaseUrl (an admin must fix it) or ValueError.
    """
    if agency.environment != "custom":
        return base_url_for(agency.environment)
    problem = custom_url_problem(agency.custom_base_url or "")
    if problem:
        raise UnsafeBaseUrl(f"the custom base URL is refused: {problem}")
    return base_url_for(agency.environment, agency.custom_base_url)


def is_configured(agency: Agency) -> bool:
    return bool(agency.username and agency.password_encrypted)


def client_for(agency: Agency, **options) -> CyberTiplineClient:
    """A client with the agency's decrypted credentials. Do not keep it longer than the calls it makes.

    Every reply about a report is kept as received, for the evidence (console/evidence/replies.py).
    """
    options.setdefault("on_reply", replies.keep)
    return CyberTiplineClient(
        base_url(agency), agency.username, credentials.decrypt(agency.password_encrypted), **options
    )


def connect_demo_simulator(url: str, username: str, password: str) -> None:
    """For the one-command run: point NCMEC at the local simulator unless an admin already connected it."""
    agency = ncmec()
    if is_configured(agency):
        return
    agency.environment = "custom"
    agency.custom_base_url = url
    agency.username = username
    agency.password_encrypted = credentials.encrypt(password)
    db.session.commit()
