"""Has NCMEC's schema moved? Compare the XSD the service serves with the one the console validates against.

NCMEC may add optional elements to the live schema; our vendored copy (console/ncmec/xsd) is what every
document is checked against before it is sent. "Test connection" and `flask ncmec check-schema` ask the
service for ``<base>/xsd`` and name what was added or removed, so an admin knows to update the copy.
"""

from __future__ import annotations

from flask import current_app

from console.ncmec import CyberTiplineClient, CyberTiplineError, schema
from console.reporting import agencies
from console.reporting.credentials import CredentialsError
from console.reporting.models import Agency


def compare_schema(client: CyberTiplineClient) -> tuple[schema.Drift | None, str]:
    """(drift, message) for the service behind ``client``; drift is None when /xsd could not be read."""
    try:
        drift = schema.drift(client.fetch_xsd())
    except (CyberTiplineError, ValueError) as error:
        return None, f"Could not compare NCMEC's schema: {error}"
    return drift, drift.summary


def check_schema(agency: Agency) -> tuple[schema.Drift | None, str]:
    """``compare_schema`` for the agency, with its stored credentials and the configured timeouts."""
    cfg = current_app.config
    try:
        client = agencies.client_for(
            agency, connect_timeout=cfg["NCMEC_CONNECT_TIMEOUT"], read_timeout=cfg["NCMEC_READ_TIMEOUT"]
        )
    except (CyberTiplineError, CredentialsError, ValueError) as error:
        return None, f"Could not compare NCMEC's schema: {error}"
    return compare_schema(client)
