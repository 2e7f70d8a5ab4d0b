"""`flask ncmec …`: the NCMEC connection and reporting rules for operators, without the web console.

The password is read from standard input, never from an argument: arguments end up in shell history and `ps`.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from console.reporting import agencies
from console.reporting import settings_service as service

ACTOR = "cli"


@click.group("ncmec")
def ncmec_group() -> None:
    """The NCMEC CyberTipline connection and reporting rules."""


@ncmec_group.command("configure")
@click.option("--environment", type=click.Choice(list(service.ENVIRONMENTS)), required=True)
@click.option(
    "--base-url", default="", help="The base URL with --environment custom (e.g. the local simulator)."
)
@click.option("--username", required=True, help="The ESP username.")
@with_appcontext
def configure_command(environment: str, base_url: str, username: str) -> None:
    """Set the environment and credentials; the password is read from standard input (blank keeps it)."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        agency = service.configure_agency(
            agencies.ncmec().id,
            environment=environment,
            custom_base_url=base_url,
            username=username,
            password=password or None,
            actor_label=ACTOR,
        )
    except service.SettingsError as e:
        raise click.ClickException("; ".join(e.errors.values())) from e
    click.echo(f"NCMEC configured: {agency.environment} {agencies.base_url(agency)} as {agency.username}")


@ncmec_group.command("test-connection")
@with_appcontext
def test_connection_command() -> None:
    """Call NCMEC's /status with the stored credentials."""
    check = service.check_connection(agencies.ncmec().id, actor_label=ACTOR)
    click.echo(f"{check.label}: {check.message}")
    if not check.ok:
        raise SystemExit(1)


@ncmec_group.command("rules")
@with_appcontext
def rules_command() -> None:
    """List the reporting rules."""
    overview = service.rules_overview()
    if not overview:
        click.echo("no reporting rules")
    for o in overview:
        r = o.rule
        click.echo(
            f"{r.name}\t{'enabled' if r.enabled else 'paused'}\t"
            f"policies: {', '.join(p.name for p in r.policies)} (covers: {', '.join(o.covered)})\t"
            f"queue: {r.review_queue.name}\t"
            f"contact: {r.contact_first_name} {r.contact_last_name} <{r.contact_email}>\t"
            f"reports: {o.report_count}"
        )
    for c in service.rule_conflicts():
        click.echo(
            f"conflict: {c.policy.name} is covered by {', '.join(r.name for r in c.rules)}; "
            f"{c.winner.name if c.winner else '?'} is used"
        )


@ncmec_group.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Re-encrypt the stored password under the newest key in CREDENTIALS_KEYS."""
    count = service.rotate_agency_keys(actor_label=ACTOR)
    click.echo(f"re-encrypted {count} stored password{'s' if count != 1 else ''} under the newest key")
