"""`flask api …`: API tokens for operators who set up an upstream system from a shell."""

from __future__ import annotations

import click
from flask.cli import AppGroup

api_group = AppGroup("api", help="Ingestion API tokens.")


@api_group.command("create-token")
@click.argument("name")
def create_token_command(name: str) -> None:
    """Create an API token named NAME and print it; it is never shown again."""
    from console.api import tokens

    try:
        _token, raw = tokens.create_token(name, actor_label="cli")
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    click.echo(raw)
    click.echo(f"Token {name!r} created. Store it now: the console keeps only its SHA-256.", err=True)
