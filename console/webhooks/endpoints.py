"""What admins set up for webhooks: endpoints (URL, write-only signing secret), actions, allowed hosts.

A secret is stored encrypted (console/crypto.py, like the NCMEC password), never shown again after it is made,
and replaced by a new one with an overlap: the previous one keeps signing beside it (two signatures, the
Standard Webhooks way) for WEBHOOK_SECRET_OVERLAP_HOURS, so receivers switch over without losing a delivery.
An endpoint's URL follows the NCMEC custom URL's rule (console/urlguard.py): https, except hosts an admin
allows (the demo platform on this machine); the address it reaches is checked again at every delivery.
"""

from __future__ import annotations

import base64
import ipaddress
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from console import audit, crypto, tasks, urlguard
from console.extensions import db
from console.policies.models import Policy
from console.timeutil import utcnow
from console.webhooks.models import (
    ACTION_TYPES,
    VERDICTS,
    WebhookAction,
    WebhookAllowedHost,
    WebhookEndpoint,
    WebhookEvent,
)
from console.webhooks.service import delivery_job

URL_MAX = 500
SECRET_PREFIX = "whsec_"  # noqa: S105 - the spec's prefix, not a secret


class WebhookError(ValueError):
    """What an admin asked cannot be done as asked: field → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


def allowed_hosts() -> set[str]:
    return {h.lower() for h in db.session.scalars(select(WebhookAllowedHost.host))}


def endpoint_url_problem(url: str, allowed: Collection[str] | None = None) -> str | None:
    """Why events must not go to ``url``: the NCMEC custom URL's rule, with the admins' allow-list."""
    hosts = allowed_hosts() if allowed is None else {h.lower() for h in allowed}
    problem = urlguard.url_problem(
        url,
        max_len=URL_MAX,
        plain_http_ok=lambda host: host.lower() in hosts,
        example="https://platform.example/webhooks",
        http_hint="Use https:// — plain http only for a host an admin allowed (Allowed hosts, below).",
    )
    if problem:
        return problem
    host = (urlsplit(url).hostname or "").lower()
    if host not in hosts and (urlguard.is_loopback(host) or _private_literal(host)):
        return (
            f"{host} is not a public address: allow the host first (e.g. the demo platform on this machine)."
        )
    return None


def _private_literal(host: str) -> bool:
    """An address written in the URL that is not public (a name is checked at connection time)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return not urlguard.is_public_address(host)


def _name_taken(model, name: str, current) -> bool:
    """Another row of `model` (an endpoint, an action) already has this name."""
    clash = db.session.scalar(select(model.id).where(model.name == name))
    return clash is not None and (current is None or clash != current.id)


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _secret_problem(secret: str) -> str | None:
    if not secret.startswith(SECRET_PREFIX):
        return f"A signing secret starts with {SECRET_PREFIX} (leave it empty to have one made)."
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return "The secret after whsec_ must be base64."
    if not 24 <= len(raw) <= 64:
        return "The secret must hold 24 to 64 random bytes."
    return None


def save_endpoint(
    endpoint: WebhookEndpoint | None,
    *,
    name: str,
    url: str,
    secret: str = "",
    enabled: bool = True,
    actor=None,
) -> tuple[WebhookEndpoint, str | None]:
    """Create or change an endpoint. Returns it and the secret when one was made (shown once, never again).

    A new secret replaces the current one, which keeps signing beside it for WEBHOOK_SECRET_OVERLAP_HOURS (two
    signatures: receivers switch over without losing a delivery). The secret is stored encrypted, write-only.
    """
    name, url, secret = name.strip(), url.strip(), (secret or "").strip()
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = "Enter a name of at most 100 characters."
    problem = endpoint_url_problem(url)
    if problem:
        errors["url"] = problem
    if secret and _secret_problem(secret):
        errors["secret"] = _secret_problem(secret)
    if _name_taken(WebhookEndpoint, name, endpoint):
        errors["name"] = "Another endpoint has this name."
    if errors:
        raise WebhookError(errors)
    made = None
    if endpoint is None:
        endpoint = WebhookEndpoint(created_at=utcnow())
        db.session.add(endpoint)
        if not secret:
            secret = made = generate_secret()
    changed_url = endpoint.url != url
    endpoint.name, endpoint.url = name, url
    if secret:
        if endpoint.secret_encrypted:
            endpoint.previous_secret_encrypted = endpoint.secret_encrypted
            endpoint.previous_secret_until = utcnow() + timedelta(
                hours=current_app.config["WEBHOOK_SECRET_OVERLAP_HOURS"]
            )
        endpoint.secret_encrypted = crypto.encrypt(secret)
    was_enabled = endpoint.enabled if endpoint.id else None
    endpoint.enabled = enabled
    if enabled and was_enabled is False:
        endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since = "", None, None
    elif not enabled and was_enabled:
        endpoint.disabled_reason, endpoint.disabled_at = "disabled by an admin", utcnow()
    db.session.flush()
    audit.record(
        "webhook_endpoint_saved",
        "webhook_endpoint",
        endpoint.id,
        actor=actor,
        actor_label="" if actor else "cli",
        name=name,
        url=url,
        url_changed=changed_url,
        secret_changed=bool(secret),
        enabled=enabled,
    )
    jobs = _held_jobs(endpoint.id) if enabled and was_enabled is False else []
    tasks.commit_then_enqueue(jobs)
    return endpoint, made


def rotate_secret(endpoint_id: int, actor=None) -> str:
    """A new secret for the endpoint, shown once; the previous one signs beside it for the overlap."""
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise LookupError(f"no endpoint {endpoint_id}")
    secret = generate_secret()
    save_endpoint(
        endpoint, name=endpoint.name, url=endpoint.url, secret=secret, enabled=endpoint.enabled, actor=actor
    )
    return secret


def _held_jobs(endpoint_id: int) -> list[tasks.Job]:
    """An endpoint enabled again: its pending events go out now."""
    ids = db.session.scalars(
        select(WebhookEvent.id).where(
            WebhookEvent.endpoint_id == endpoint_id, WebhookEvent.state == "pending"
        )
    )
    return [delivery_job(i) for i in ids]


def set_endpoint_enabled(
    endpoint_id: int, enabled: bool, *, reason: str = "", actor=None, actor_label: str = ""
) -> None:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise LookupError(f"no endpoint {endpoint_id}")
    endpoint.enabled = enabled
    if enabled:
        endpoint.disabled_reason, endpoint.disabled_at, endpoint.failing_since = "", None, None
    else:
        endpoint.disabled_reason, endpoint.disabled_at = reason or "disabled by an admin", utcnow()
    audit.record(
        "webhook_endpoint_enabled" if enabled else "webhook_endpoint_disabled",
        "webhook_endpoint",
        endpoint_id,
        actor=actor,
        actor_label=actor_label or ("" if actor else "system"),
        reason=reason,
    )
    tasks.commit_then_enqueue(_held_jobs(endpoint_id) if enabled else [])


def save_action(
    action: WebhookAction | None,
    *,
    name: str,
    event_type: str,
    endpoint_id: int | None,
    verdict: str,
    enabled: bool,
    skippable: bool,
    policy_ids: Collection[int],
    actor=None,
) -> WebhookAction:
    name = name.strip()
    errors = {}
    if not name or len(name) > 100:
        errors["name"] = "Enter a name of at most 100 characters."
    if event_type not in ACTION_TYPES:
        errors["event_type"] = "Choose what the platform is asked to do."
    if verdict not in VERDICTS:
        errors["verdict"] = "Choose the decision that runs it."
    if endpoint_id is None or db.session.get(WebhookEndpoint, endpoint_id) is None:
        errors["endpoint"] = "Choose the endpoint it is sent to."
    if _name_taken(WebhookAction, name, action):
        errors["name"] = "Another action has this name."
    policies = (
        list(db.session.scalars(select(Policy).where(Policy.id.in_(list(policy_ids))))) if policy_ids else []
    )
    if verdict == "no_violation" and policies:
        errors["policies"] = "An action on “No violation” is not a policy's default."
    if errors:
        raise WebhookError(errors)
    if action is None:
        action = WebhookAction(created_at=utcnow())
        db.session.add(action)
    action.name, action.event_type, action.endpoint_id = name, event_type, endpoint_id
    action.verdict, action.enabled, action.skippable = verdict, enabled, skippable
    action.policies = policies
    db.session.flush()
    audit.record(
        "webhook_action_saved",
        "webhook_action",
        action.id,
        actor=actor,
        actor_label="" if actor else "cli",
        name=name,
        event_type=event_type,
        verdict=verdict,
        enabled=enabled,
        skippable=skippable,
        policies=[p.name for p in policies],
    )
    tasks.commit_then_enqueue()
    return action


def allow_host(host: str, note: str = "", actor=None) -> WebhookAllowedHost:
    host = host.strip().lower()
    if not host or len(host) > 253 or any(c.isspace() or c in "/:@?#" for c in host):
        raise WebhookError({"host": "Enter a host name or address, without scheme, port or path."})
    row = db.session.scalar(select(WebhookAllowedHost).where(WebhookAllowedHost.host == host))
    if row is None:
        row = WebhookAllowedHost(host=host, note=note.strip()[:200], created_at=utcnow())
        db.session.add(row)
        db.session.flush()
        audit.record(
            "webhook_host_allowed",
            "webhook_endpoint",
            "",
            actor=actor,
            actor_label="" if actor else "cli",
            host=host,
        )
    tasks.commit_then_enqueue()
    return row


def disallow_host(host_id: int, actor=None) -> None:
    row = db.session.get(WebhookAllowedHost, host_id)
    if row is None:
        raise LookupError(f"no allowed host {host_id}")
    audit.record("webhook_host_disallowed", "webhook_endpoint", "", actor=actor, host=row.host)
    db.session.delete(row)
    tasks.commit_then_enqueue()


def rotate_keys(*, actor_label: str = "") -> int:
    """Re-encrypt every stored webhook secret under the newest CREDENTIALS_KEYS key."""
    count = 0
    for endpoint in db.session.scalars(select(WebhookEndpoint)):
        if endpoint.secret_encrypted:
            endpoint.secret_encrypted = crypto.rotate(endpoint.secret_encrypted)
            count += 1
        if endpoint.previous_secret_encrypted:
            endpoint.previous_secret_encrypted = crypto.rotate(endpoint.previous_secret_encrypted)
        audit.record("webhook_secret_reencrypted", "webhook_endpoint", endpoint.id, actor_label=actor_label)
    tasks.commit_then_enqueue()
    return count


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one while its overlap lasts."""
    out = [crypto.decrypt(endpoint.secret_encrypted)] if endpoint.secret_encrypted else []
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_until
        and now < endpoint.previous_secret_until
    ):
        out.append(crypto.decrypt(endpoint.previous_secret_encrypted))
    return out
