"""The DSA Transparency Database as an agency: its two environments, the token, Test connection, on/off.

The token is a secret like the NCMEC password: stored encrypted (console/crypto.py), write-only (no page shows
it), decrypted only to build a client, and sent only over https — or plain http to this machine itself, the
local stand-in (console/urlguard.py), checked when saved and again when used.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from console import audit, crypto, urlguard
from console.dsa import TransparencyDatabaseClient
from console.dsa.constants import EU_COUNTRIES as DEFAULT_COUNTRIES
from console.dsa.constants import TERRITORIAL_SCOPE_CODES, TOKEN_PATTERN
from console.dsa.errors import DsaError, NeedsAdminError
from console.extensions import db
from console.sor.models import AGENCY_NAME, ENVIRONMENTS, SorAgency, SorEnvironment
from console.timeutil import utcnow

URL_MAX = 500
TEST_CONNECT_TIMEOUT = 3.0
TEST_READ_TIMEOUT = 5.0


class AgencyError(ValueError):
    """A change was refused; ``errors`` maps a field to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def agency() -> SorAgency:
    """The one agency row (pre-loaded by the migration). Missing, an unsaved one, off: reading never writes
    (a decision's transaction reads it); only an admin's change adds it (`_kept`)."""
    row = db.session.get(SorAgency, 1)
    if row is None:
        row = SorAgency(
            id=1, name=AGENCY_NAME, enabled=False, environment="sandbox", countries=DEFAULT_COUNTRIES
        )
    return row


def environment(name: str) -> SorEnvironment:
    """An environment's row; missing, an unsaved empty one (not configured), as `agency`."""
    if name not in ENVIRONMENTS:
        raise LookupError(f"no environment {name!r}")
    row = db.session.scalar(select(SorEnvironment).where(SorEnvironment.name == name))
    if row is None:
        row = SorEnvironment(
            name=name, base_url="", paused_reason="", last_check_status="", last_check_message=""
        )
    return row


def _kept(row):
    """An admin's change is kept: the row is added (nothing for one read from the database) and flushed."""
    db.session.add(row)
    db.session.flush()
    return row


def environments() -> list[SorEnvironment]:
    return [environment(name) for name in ENVIRONMENTS]


def url_problem(url: str) -> str | None:
    return urlguard.url_problem(
        url,
        max_len=URL_MAX,
        plain_http_ok=urlguard.is_loopback,
        example="https://transparency.dsa.ec.europa.eu",
        name="base URL",
        http_hint="Use https:// — plain http is allowed only for this machine (the local stand-in).",
    )


def is_ready(env: SorEnvironment) -> bool:
    """Configured and not paused: a worker may send to it."""
    return env.configured and not env.paused_reason


def save_environment(name: str, *, base_url: str, token: str = "", actor=None) -> SorEnvironment:
    """Set an environment's base URL and (when given) token. A changed URL needs the token again: the stored
    one is sent only to the address it was entered for. Saving un-pauses the environment (an admin acted)."""
    env = environment(name)
    base_url = (base_url or "").strip().rstrip("/")
    token = (token or "").strip()
    errors = {}
    if problem := url_problem(base_url):
        errors["base_url"] = problem
    if token and not TOKEN_PATTERN.fullmatch(token):
        errors["token"] = "A Transparency Database token looks like 12|abc… (its number, a bar, the secret)."  # noqa: S105
    if not token and (not env.token_encrypted or base_url != env.base_url):
        errors["token"] = "Enter the token: the stored one is sent only to the address it was entered for."  # noqa: S105
    if errors:
        raise AgencyError(errors)
    env.base_url = base_url
    if token:
        env.token_encrypted = crypto.encrypt(token)
    was_paused = env.paused_reason
    env.paused_reason, env.paused_at = "", None
    env.last_check_at, env.last_check_status, env.last_check_message = None, "", ""
    _kept(env)
    audit.record(
        "sor_environment_saved",
        "sor_environment",
        env.id,
        actor=actor,
        actor_label="" if actor else "cli",
        environment=name,
        base_url=base_url,
        token_changed=bool(token),
        unpaused=bool(was_paused),
    )
    return env


def save_agency(*, enabled: bool, environment_name: str, countries: list[str], actor=None) -> SorAgency:
    row = agency()
    errors = {}
    if environment_name not in ENVIRONMENTS:
        errors["environment"] = "Choose sandbox or production."
    codes = sorted({c.strip().upper() for c in countries if c.strip()})
    unknown = [c for c in codes if c not in TERRITORIAL_SCOPE_CODES]
    if unknown:
        errors["countries"] = (
            f"Not a country the service knows: {', '.join(unknown)} (EU and EEA codes; Greece is GR)."
        )
    if enabled and not errors and not environment(environment_name).configured:
        errors["enabled"] = "Enter the environment's base URL and token before enabling."
    if errors:
        raise AgencyError(errors)
    row.enabled, row.environment, row.countries, row.updated_at = enabled, environment_name, codes, utcnow()
    _kept(row)
    audit.record(
        "sor_agency_saved",
        "sor_agency",
        row.id,
        actor=actor,
        actor_label="" if actor else "cli",
        enabled=enabled,
        environment=environment_name,
        countries=codes,
    )
    return row


def client_for(env: SorEnvironment, **options) -> TransparencyDatabaseClient:
    """A client with the environment's decrypted token. Do not keep it longer than the calls it makes."""
    if problem := url_problem(env.base_url):
        raise NeedsAdminError(f"the base URL is refused: {problem}")
    return TransparencyDatabaseClient(env.base_url, crypto.decrypt(env.token_encrypted), **options)


@dataclass(frozen=True)
class Check:
    status: str
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "connected"


def test_connection(name: str, *, actor=None) -> Check:
    """``GET /api/ping`` with the stored token; the outcome is kept on the environment's row."""
    env = environment(name)
    if not env.configured:
        check = Check("not_configured", "Enter the base URL and token first.")
    else:
        try:
            client_for(env, connect_timeout=TEST_CONNECT_TIMEOUT, read_timeout=TEST_READ_TIMEOUT).ping()
            check = Check("connected", f"The Transparency Database at {env.base_url} answered pong.")
        except NeedsAdminError as e:
            check = Check("wrong_credentials", f"Refused: {e}")
        except (DsaError, crypto.DecryptError) as e:
            check = Check("error", str(e))
    env.last_check_at, env.last_check_status, env.last_check_message = (
        utcnow(),
        check.status,
        check.message[:500],
    )
    _kept(env)
    audit.record(
        "sor_connection_tested",
        "sor_environment",
        env.id,
        actor=actor,
        actor_label="" if actor else "cli",
        environment=name,
        status=check.status,
    )
    return check
