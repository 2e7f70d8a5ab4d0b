"""`flask ncmec …`: the NCMEC connection and reporting rules for operators, without the web console.

`flask ncmec rules` lists the reporting rules; `rules create`, `rules enable` and `rules disable` change them
through the same service functions (and audit events) as Settings → External reporting.

The password is read from standard input, never from an argument: arguments end up in shell history and `ps`.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from console.extensions import db
from console.policies.models import Policy
from console.queues.models import Queue
from console.reporting import agencies
from console.reporting.models import Agency, ReportingRule
from console.settings import queries, service

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


@ncmec_group.command("check-schema")
@with_appcontext
def check_schema_command() -> None:
    """Compare the XSD NCMEC serves with the vendored copy; exit 1 when elements or enumerations differ."""
    from console.reporting.schema_check import check_schema

    drift, message = check_schema(agencies.ncmec())
    click.echo(message)
    if drift is None or drift.structural:
        sys.exit(1)


@ncmec_group.command("test-connection")
@with_appcontext
def test_connection_command() -> None:
    """Call NCMEC's /status with the stored credentials."""
    check = service.check_connection(agencies.ncmec().id, actor_label=ACTOR)
    click.echo(f"{check.label}: {check.message}")
    if not check.ok:
        raise SystemExit(1)


@ncmec_group.group("rules", invoke_without_command=True)
@click.pass_context
def rules_group(ctx: click.Context) -> None:
    """List the reporting rules (and create, enable or disable one)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_rules_command)


@rules_group.command("list")
@with_appcontext
def list_rules_command() -> None:
    """List the reporting rules."""
    overview = queries.rules_overview()
    if not overview:
        click.echo("no reporting rules")
    for o in overview:
        r = o.rule
        click.echo(
            f"{r.name}\t{'enabled' if r.enabled else 'paused'}\t"
            f"policies: {', '.join(p.name for p in r.policies)} (covers: {', '.join(o.covered)})\t"
            f"queue: {r.review_queue.name}\t"
            f"contact: {r.contact_first_name} {r.contact_last_name} <{r.contact_email}>\t"
            f"one report per user within: "
            f"{f'{r.bundle_window_minutes} min' if r.bundle_window_minutes else 'off'}\t"
            f"reports: {o.report_count}"
        )
    for c in queries.rule_conflicts():
        click.echo(
            f"conflict: {c.policy.name} is covered by {', '.join(r.name for r in c.rules)}; "
            f"{c.winner.name if c.winner else '?'} is used"
        )


# The service's error keys are the web form's fields; say them as this command's options.
RULE_OPTIONS = {
    "name": "NAME",
    "agency": "--agency",
    "policies": "--policy",
    "review_queue": "--review-queue",
    "contact_first_name": "--contact-first-name",
    "contact_last_name": "--contact-last-name",
    "contact_email": "--contact-email",
    "bundle_window_minutes": "--bundle-window",
}


@rules_group.command("create")
@click.argument("name")
@click.option(
    "--policy",
    "policies",
    multiple=True,
    required=True,
    help="A policy slug or name; repeat for several. A parent policy covers its sub-policies.",
)
@click.option(
    "--review-queue", required=True, help="The queue (slug or name) where AI-detected cases are confirmed."
)
@click.option("--contact-first-name", required=True)
@click.option("--contact-last-name", required=True)
@click.option("--contact-email", required=True)
@click.option("--agency", default="ncmec", show_default=True, help="The agency's slug.")
@click.option(
    "--bundle-window",
    type=click.IntRange(1, service.BUNDLE_WINDOW_MAX),
    default=None,
    help="Minutes: one user's AI-confirmed contents confirmed within them are one report (default: off).",
)
@click.option("--paused", is_flag=True, help="Create it paused; `enable` starts it.")
@with_appcontext
def create_rule_command(
    name: str,
    policies: tuple[str, ...],
    review_queue: str,
    contact_first_name: str,
    contact_last_name: str,
    contact_email: str,
    agency: str,
    bundle_window: int | None,
    paused: bool,
) -> None:
    """Create a reporting rule NAME (enabled unless --paused)."""
    found_agency = db.session.scalar(select(Agency).where(Agency.slug == agency))
    if found_agency is None:
        known = ", ".join(db.session.scalars(select(Agency.slug).order_by(Agency.slug)))
        raise click.BadParameter(f"no agency {agency!r} (known: {known})", param_hint="--agency")
    try:
        fields = service.RuleFields(
            name=name,
            agency_id=found_agency.id,
            policy_ids=[_lookup(Policy, p, "--policy").id for p in policies],
            review_queue_id=_lookup(Queue, review_queue, "--review-queue").id,
            contact_first_name=contact_first_name,
            contact_last_name=contact_last_name,
            contact_email=contact_email,
            bundle_window_minutes=bundle_window,
        )
        rule = service.create_rule(
            fields,
            enabled=not paused,
            actor_label=ACTOR,
        )
    except service.SettingsError as e:
        raise click.ClickException(
            "; ".join(f"{RULE_OPTIONS.get(k, k)}: {v}" for k, v in e.errors.items())
        ) from e
    click.echo(f"created rule {rule.name!r} ({'enabled' if rule.enabled else 'paused'})")
    for c in queries.rule_conflicts():
        if rule in c.rules:
            click.echo(
                f"warning: {c.policy.name} is also covered by "
                f"{', '.join(r.name for r in c.rules if r is not rule)}; "
                f"{c.winner.name if c.winner else '?'} is used",
                err=True,
            )


@rules_group.command("bundle-window")
@click.argument("name")
@click.argument("minutes")
@with_appcontext
def bundle_window_command(name: str, minutes: str) -> None:
    """One report per incident: the AI-confirmed contents of one user confirmed within MINUTES of the first
    are filed as one report when the window closes; MINUTES `off` files each content on its own, at once."""
    if minutes.lower() == "off":
        window = None
    elif minutes.isdigit():
        window = int(minutes)
    else:
        raise click.BadParameter("a number of minutes, or off", param_hint="MINUTES")
    try:
        rule = service.set_rule_bundle_window(_rule_named(name).id, window, actor_label=ACTOR)
    except service.SettingsError as e:
        raise click.ClickException("; ".join(e.errors.values())) from e
    if rule.bundle_window_minutes:
        click.echo(
            f"rule {rule.name!r}: a user's AI-confirmed contents within {rule.bundle_window_minutes} minutes "
            "are one report, filed when the window closes"
        )
    else:
        click.echo(f"rule {rule.name!r}: window off, each content is filed on its own at once")


@rules_group.command("enable")
@click.argument("name")
@with_appcontext
def enable_rule_command(name: str) -> None:
    """Resume the rule NAME: it files for new confirmed violations again."""
    rule = service.set_rule_enabled(_rule_named(name).id, True, actor_label=ACTOR)
    click.echo(f"enabled rule {rule.name!r}")


@rules_group.command("disable")
@click.argument("name")
@with_appcontext
def disable_rule_command(name: str) -> None:
    """Pause the rule NAME: nothing new is filed under it; reports already created carry on."""
    rule = service.set_rule_enabled(_rule_named(name).id, False, actor_label=ACTOR)
    click.echo(f"paused rule {rule.name!r}")


def _lookup(model, key: str, option: str):
    """A policy or queue by slug, else by name (case-insensitive), as an operator would type it."""
    found = db.session.scalar(select(model).where(model.slug == key)) or db.session.scalar(
        select(model).where(func.lower(model.name) == key.strip().lower())
    )
    if found is None:
        known = ", ".join(db.session.scalars(select(model.slug).order_by(model.slug)))
        raise click.BadParameter(f"no {model.__name__.lower()} {key!r} (known: {known})", param_hint=option)
    return found


def _rule_named(name: str) -> ReportingRule:
    rule = db.session.scalar(
        select(ReportingRule).where(func.lower(ReportingRule.name) == name.strip().lower())
    )
    if rule is None:
        known = "; ".join(db.session.scalars(select(ReportingRule.name).order_by(ReportingRule.id)))
        raise click.ClickException(f"no reporting rule named {name!r} (rules: {known or 'none'})")
    return rule


@ncmec_group.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Re-encrypt the stored password under the newest key in CREDENTIALS_KEYS."""
    count = service.rotate_agency_keys(actor_label=ACTOR)
    click.echo(f"re-encrypted {count} stored password{'s' if count != 1 else ''} under the newest key")
