"""`flask evidence …` and `flask audit …`: the operator's side of evidence and of the audit log.

Each command goes through the same service functions, and leaves the same audit events, as the pages; the
audit log shows them as made by `cli`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

ACTOR = "cli"


@click.group("evidence")
def evidence_group() -> None:
    """Preserved evidence of finished NCMEC reports."""


@evidence_group.command("export")
@click.argument("report_id", type=int)
@click.option(
    "--reason", required=True, help="Why the package is made (recorded), e.g. the request it answers."
)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: report-ID-evidence.zip here."
)
@with_appcontext
def export_command(report_id: int, reason: str, output: Path | None) -> None:
    """Write the law-enforcement package of a report (a zip with its manifest)."""
    from console.evidence import package

    target = output or Path(f"report-{report_id}-evidence.zip")
    try:
        # Opened first (for this user only, never over an existing file): the export is recorded only once
        # there is somewhere to write it.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise click.ClickException(f"cannot create {target}: {e.strerror}; choose another --output") from e
    with os.fdopen(fd, "wb") as out:
        try:
            made = package.build(report_id, reason=reason, actor_label=ACTOR)
        except package.PackageError as e:
            target.unlink(missing_ok=True)
            raise click.ClickException(str(e)) from e
        with made.file:
            shutil.copyfileobj(made.file, out)
    click.echo(f"{target}: {len(made.manifest['items'])} items, manifest sha256 {made.manifest_sha256}")


@evidence_group.command("verify-package")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    help="The console's public key (a PEM file, or the key's text); default: this console's own "
    "(`flask audit public-key`).",
)
@click.option("--verbose", "-v", is_flag=True, help="Also list everything that matched.")
@with_appcontext
def verify_package_command(file: Path, public_key: str | None, verbose: bool) -> None:
    """Check a law-enforcement package offline: its signed manifest, every file's hash, the custody proofs
    and the checkpoint's signature. Names what does not match; exit 1 if anything does not."""
    from console.evidence import packagecheck, signer

    if public_key and Path(public_key).is_file():
        public_key = Path(public_key).read_text()
    result = packagecheck.verify(str(file), public_key or signer.current().public_key)
    if verbose or result.ok:
        for line in result.checked:
            click.echo(f"ok       {line}")
    for problem in result.problems:
        click.echo(f"MISMATCH {problem}")
    if not result.ok:
        click.echo(f"{file}: NOT VERIFIED ({len(result.problems)} problem(s))")
        sys.exit(1)
    click.echo(f"{file}: verified")


@evidence_group.command("move-to-s3")
@click.option("--media-root", type=click.Path(file_okay=False, path_type=Path), help="Default: MEDIA_ROOT.")
@click.option(
    "--evidence-root", type=click.Path(file_okay=False, path_type=Path), help="Default: the evidence folder."
)
@with_appcontext
def move_to_s3_command(media_root: Path | None, evidence_root: Path | None) -> None:
    """Copy the filesystem's media and evidence into the S3 buckets, checking every hash on both sides;
    exit 1 naming what did not match. Run with STORAGE_BACKEND=s3 configured; local files stay."""
    from flask import current_app

    from console.evidence import store, storemove
    from console.media import objectstore

    try:
        moved = storemove.to_s3(
            media_root or Path(current_app.config["MEDIA_ROOT"]),
            evidence_root or store.root(),
            echo=click.echo,
        )
    except objectstore.ObjectStoreError as e:
        raise click.ClickException(str(e)) from e
    for problem in moved.problems:
        click.echo(f"MISMATCH {problem}")
    click.echo(f"moved {moved.media} media file(s) and {moved.evidence} evidence object(s), hashes checked")
    if moved.problems:
        sys.exit(1)


@evidence_group.command("preserve")
@with_appcontext
def preserve_command() -> None:
    """Preserve what is pending now (what the evidence sweep does every few minutes)."""
    from console.evidence import preservation

    click.echo(f"preserved {preservation.sweep()} report(s)")


@evidence_group.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be purged; purge nothing.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Purge evidence past its date that no legal hold covers (what the retention job does)."""
    from console.evidence import retention
    from console.timeutil import utcnow

    if dry_run:
        ids = retention.expired(utcnow())
        click.echo(f"would purge {len(ids)} record(s): {', '.join(map(str, ids)) or '—'}")
        return
    ids = retention.purge_expired(actor_label=ACTOR)
    click.echo(f"purged {len(ids)} record(s): {', '.join(map(str, ids)) or '—'}")


@evidence_group.command("check")
@click.argument("report_id", type=int)
@with_appcontext
def check_command(report_id: int) -> None:
    """Re-hash a report's preserved items in the store; exit 1 when any is missing or changed."""
    from console.evidence import package, store

    record = package.record_of(report_id)
    if record is None:
        raise click.ClickException(f"report #{report_id} has no evidence record")
    bad = 0
    for item in record.items:
        ok = store.check(item.sha256)
        bad += not ok
        click.echo(f"{'ok ' if ok else 'BAD'} {item.sha256} {item.size:>12} {item.name}")
    click.echo(
        f"record {record.id}: {record.state_label}; {len(record.items) - bad} of {len(record.items)} intact"
    )
    if bad:
        sys.exit(1)


@click.group("audit")
def audit_group() -> None:
    """The audit log: a transparency log of every audit event (RFC 9162 Merkle tree, signed checkpoints)."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Check every sealed event against the signed checkpoints; name the first bad one (exit 1)."""
    from console.evidence import logcheck

    result = logcheck.verify_and_record(actor_label=ACTOR)
    click.echo(result.summary)
    click.echo(f"{result.events_checked} events in {result.seconds:.1f} s")
    if not result.ok:
        sys.exit(1)


@audit_group.command("seal")
@with_appcontext
def seal_command() -> None:
    """Seal the unsealed events now (what the sealer does every second from rq cron)."""
    from console.evidence import logstore, sealer

    sealed = sealer.seal(max_seconds=float("inf"))
    head = logstore.latest_checkpoint()
    size = head.tree_size if head else 0
    click.echo(f"sealed {sealed} event(s); the log holds {size}, root {head.root.hex() if head else '—'}")


@audit_group.command("public-key")
@click.option("--pem", is_flag=True, help="Only the PEM (SubjectPublicKeyInfo), e.g. for openssl.")
@with_appcontext
def public_key_command(pem: bool) -> None:
    """Print the log's public key: what anyone needs to check its checkpoints and proofs."""
    from console.evidence import signer

    key = signer.current()
    if pem:
        click.echo(key.public_pem(), nl=False)
        return
    click.echo(f"origin:       {key.origin}")
    click.echo(f"verifier key: {key.verifier_key()}")
    click.echo(key.public_pem(), nl=False)


@audit_group.command("prove")
@click.argument("event_id", type=int, required=False)
@click.option("--size", type=int, help="Against the checkpoint of this tree size (default: the latest).")
@click.option(
    "--consistency",
    nargs=2,
    type=int,
    metavar="SIZE SIZE",
    help="Instead: that the checkpoint of the second size extends the one of the first.",
)
@with_appcontext
def prove_command(event_id: int | None, size: int | None, consistency: tuple[int, int] | None) -> None:
    """Print the proof (JSON) that an event is in the log, checkable offline with the public key alone:
    `python -m console.tlog PROOF.json --public-key KEY`."""
    import json

    from console.evidence import logstore

    try:
        if consistency:
            proof = logstore.prove_consistency(*consistency)
        elif event_id is None:
            raise click.UsageError("give an EVENT_ID, or --consistency SIZE SIZE")
        else:
            proof = logstore.prove_inclusion(event_id, size)
    except logstore.ProofUnavailable as e:
        raise click.ClickException(str(e)) from e
    click.echo(json.dumps(proof, indent=2))
