"""`flask` commands for operators."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from console.extensions import db


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_command)
    app.cli.add_command(create_user_command)
    from console.settings.cli import ncmec_group

    app.cli.add_command(ncmec_group)
    from console.api.cli import api_group

    app.cli.add_command(api_group)


@click.command("demo-data")
@with_appcontext
def demo_command() -> None:
    """Load the demo data (idempotent)."""
    from console import demo

    info = demo.load()
    for email, _name, role in info["accounts"]:
        click.echo(f"{role:10} {email} / {info['password']}")


@click.command("create-user")
@click.argument("email")
@click.argument("name")
@click.option("--role", type=click.Choice(["moderator", "admin"]), default="moderator")
@with_appcontext
def create_user_command(email: str, name: str, role: str) -> None:
    """Create an account; the password is read from standard input."""
    from console.accounts.service import create_user

    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 12:
        raise click.ClickException("the password must have at least 12 characters")
    try:
        create_user(email, name, password, role)
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    db.session.commit()
    click.echo(f"created {role} {email}")
