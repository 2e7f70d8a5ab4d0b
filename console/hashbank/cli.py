"""`flask hashbank …`: importing a list larger than a page takes, and banking reports from before the bank.

The commands call the same functions as the page and the sweep; the audit log shows them as `cli`.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

ACTOR = "cli"


@click.group("hashbank")
def hashbank_group() -> None:
    """The hash bank of reported content."""


@hashbank_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--label", required=True, help="Where the list comes from (shown with every match).")
@with_appcontext
def import_command(path: Path, label: str) -> None:
    """Import a CSV hash list (algorithm,hash[,cybertip_id][,quality]), all or nothing."""
    from console.hashbank import lists

    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            source = lists.import_list(lines, label, actor_label=ACTOR)
    except UnicodeDecodeError as e:
        raise click.ClickException("the file is not UTF-8 text") from e
    except lists.ImportRefused as e:
        raise click.ClickException("nothing was imported:\n  " + "\n  ".join(e.problems)) from e
    click.echo(f"imported {source.entry_count} hashes as “{source.label}” (source {source.id})")


@hashbank_group.command("backfill")
@with_appcontext
def backfill_command() -> None:
    """Bank every finished report not banked yet, however old (the sweep looks back a week)."""
    from console.hashbank import bank

    total = 0
    while banked := bank.sweep(limit=500, days=None):
        total += banked
    click.echo(f"banked {total} finished report(s)")
