"""`flask webhooks …`: list events, resend one, disable or enable an endpoint, re-encrypt the secrets."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from console.extensions import db
from console.webhooks import endpoints, queries, service
from console.webhooks.models import EVENT_STATES, WebhookEndpoint, WebhookEvent

ACTOR = "cli"


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhooks to the platform: events, endpoints, secrets."""


@webhooks_group.command("list")
@click.option("--state", type=click.Choice(sorted(EVENT_STATES)), help="Only events in this state.")
@click.option("--endpoint", "endpoint_name", help="Only events to this endpoint (its name).")
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def list_command(state: str | None, endpoint_name: str | None, limit: int) -> None:
    """Events, newest first: id, webhook-id, type, state, attempts, endpoint, last error."""
    query = select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(limit)
    if state:
        query = query.where(WebhookEvent.state == state)
    if endpoint_name:
        query = query.where(WebhookEvent.endpoint_id == _endpoint(endpoint_name).id)
    for e in db.session.scalars(query):
        click.echo(
            f"{e.id}\t{e.message_id}\t{e.type}\t{e.state}\t{e.attempts}\t{e.endpoint.name}\t{e.last_error[:80]}"
        )
    health = queries.health()
    counts = ", ".join(f"{s} {n}" for s, n in health.by_state.items())
    click.echo(f"events: {counts}; oldest undelivered: {health.oldest_age_seconds():.0f} s", err=True)


@webhooks_group.command("resend")
@click.argument("event_id", type=int)
@with_appcontext
def resend_command(event_id: int) -> None:
    """Send a failed or stopped event again, with the same webhook-id."""
    if not service.resend(event_id):
        raise click.ClickException(f"event {event_id} is not failed or stopped (or does not exist)")
    click.echo(f"event {event_id} queued again")


def _endpoint(name: str) -> WebhookEndpoint:
    endpoint = db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.name == name))
    if endpoint is None:
        known = ", ".join(db.session.scalars(select(WebhookEndpoint.name))) or "none"
        raise click.ClickException(f"no endpoint named {name!r} (endpoints: {known})")
    return endpoint


@webhooks_group.command("disable")
@click.argument("name")
@click.option("--reason", default="disabled from the command line", show_default=True)
@with_appcontext
def disable_command(name: str, reason: str) -> None:
    """Stop delivering to an endpoint (its events wait, pending, until it is enabled)."""
    endpoints.set_endpoint_enabled(_endpoint(name).id, False, reason=reason, actor_label=ACTOR)
    click.echo(f"endpoint {name!r} disabled")


@webhooks_group.command("enable")
@click.argument("name")
@with_appcontext
def enable_command(name: str) -> None:
    """Deliver to an endpoint again (its pending events go out now)."""
    endpoints.set_endpoint_enabled(_endpoint(name).id, True, actor_label=ACTOR)
    click.echo(f"endpoint {name!r} enabled")


@webhooks_group.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Re-encrypt the stored signing secrets under the newest key in CREDENTIALS_KEYS."""
    count = endpoints.rotate_keys(actor_label=ACTOR)
    click.echo(f"re-encrypted {count} signing secret{'s' if count != 1 else ''} under the newest key")
