"""The NCMEC agency: where it is, how we sign in, and a client for it."""

from __future__ import annotations

from sqlalchemy import select

from console.extensions import db
from console.ncmec import CyberTiplineClient, base_url_for
from console.reporting import credentials
from console.reporting.models import Agency


def ncmec() -> Agency:
    agency = db.session.scalar(select(Agency).where(Agency.slug == "ncmec"))
    if agency is None:  # the migration creates it; a missing row is an operator error worth a clear message
        raise LookupError("the NCMEC agency row is missing: run `flask db upgrade`")
    return agency


def base_url(agency: Agency) -> str:
    return base_url_for(
        agency.environment, agency.custom_base_url if agency.environment == "custom" else None
    )


def is_configured(agency: Agency) -> bool:
    return bool(agency.username and agency.password_encrypted)


def client_for(agency: Agency, **options) -> CyberTiplineClient:
    """A client with the agency's decrypted credentials. Do not keep it longer than the calls it makes."""
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
