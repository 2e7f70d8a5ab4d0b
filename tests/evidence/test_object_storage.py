"""Media and evidence on S3-compatible storage (moto's server over real HTTP): Object Lock in compliance mode
until the retention date, legal holds as S3 legal holds, bytes only through the console after a reveal, and
moving a filesystem store to S3 with every hash checked."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from console.evidence import package, packagecheck, retention, signer, store
from console.extensions import db
from console.media import storage
from tests import factories
from tests.evidence.helpers import FAST, World, record_of
from tests.s3 import moto_s3, on_s3  # noqa: F401 — fixtures


@pytest.fixture
def world(ctx, ncmec_simulator, on_s3):  # noqa: F811
    ctx.config.update(FAST)
    return World(ncmec_simulator)


def _media_bucket(ctx):
    return ctx.config["S3_MEDIA_BUCKET"]


def _evidence_bucket(ctx):
    return ctx.config["S3_EVIDENCE_BUCKET"]


def test_media_live_in_the_bucket_and_reach_a_browser_only_through_a_reveal(ctx, client, auth, on_s3):  # noqa: F811
    factories.user("moderator", email="m@example.org")
    case = factories.case(factories.queue(), images=1)
    media = case.media[0]
    stored = on_s3.get_object(Bucket=_media_bucket(ctx), Key=media.storage_key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == media.sha256
    assert on_s3.head_object(Bucket=_media_bucket(ctx), Key=media.storage_key + ".preview.png")

    # This machine's cache is only a cache: without it, the bytes come from the bucket again.
    local = storage.path_for(media)
    local.unlink()
    auth.login("m@example.org")
    page = client.get(f"/cases/{case.id}").text
    assert ctx.config["S3_ENDPOINT_URL"] not in page
    assert client.get(f"/cases/{case.id}/media/{media.id}/file").status_code == 403
    tile = auth.post(f"/cases/{case.id}/media/{media.id}/reveal", htmx=True, token_from=f"/cases/{case.id}")
    src = re.search(r'src="([^"]+/file[^"]*)"', tile.text).group(1).replace("&amp;", "&")
    assert ctx.config["S3_ENDPOINT_URL"] not in tile.text and src.startswith(f"/cases/{case.id}/")
    served = client.get(src)
    assert served.status_code == 200 and served.data == stored  # from the console, never a redirect

    # Deleted from the store: gone everywhere, the cache too.
    storage.remove_files(media)
    assert "Contents" not in on_s3.list_objects_v2(Bucket=_media_bucket(ctx))
    assert not storage.path_for(media).exists()


def test_evidence_objects_are_locked_until_the_retention_date(world, ctx, on_s3):  # noqa: F811
    report = world.finished_report(images=1)
    record = record_of(report)
    assert record.state == "preserved"
    assert not any(store.root().rglob("*/*")), "no evidence bytes on this machine's disk"
    for item in record.items:
        head = on_s3.head_object(Bucket=_evidence_bucket(ctx), Key=item.sha256)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert abs(head["ObjectLockRetainUntilDate"] - record.preserve_until) < timedelta(seconds=1)
        assert head["ContentLength"] == item.size
    # Not even the bucket's keys delete a locked version before its date.
    item = record.items[0]
    [version] = on_s3.list_object_versions(Bucket=_evidence_bucket(ctx), Prefix=item.sha256)["Versions"]
    with pytest.raises(ClientError) as refused:
        on_s3.delete_object(Bucket=_evidence_bucket(ctx), Key=item.sha256, VersionId=version["VersionId"])
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # The package streams from the bucket and proves itself.
    made = package.build(report.id, reason="LE", actor=world.admin)
    result = packagecheck.verify(io.BytesIO(made.file.read()), signer.current().public_key)
    assert result.ok, result.problems


def test_a_legal_hold_is_an_s3_legal_hold(world, ctx, on_s3):  # noqa: F811
    report = world.finished_report(images=1)
    record = record_of(report)
    key = record.items[0].sha256

    def status():
        return on_s3.head_object(Bucket=_evidence_bucket(ctx), Key=key).get("ObjectLockLegalHoldStatus")

    assert status() in (None, "OFF")
    hold = retention.place_hold(report_id=report.id, reason="Preserve", actor=world.admin)
    assert status() == "ON"
    [version] = on_s3.list_object_versions(Bucket=_evidence_bucket(ctx), Prefix=key)["Versions"]
    with pytest.raises(ClientError):
        on_s3.delete_object(Bucket=_evidence_bucket(ctx), Key=key, VersionId=version["VersionId"])
    # A second hold on the reported user: releasing the first keeps the object held.
    user_hold = retention.place_hold(
        reported_user_id=record.reported_user_id, reason="Everything of this user", actor=world.admin
    )
    retention.release_hold(hold.id, reason="Done", actor=world.admin)
    assert status() == "ON"
    retention.release_hold(user_hold.id, reason="Done", actor=world.admin)
    assert status() == "OFF"


def test_the_purge_removes_every_version_after_the_date(world, ctx, on_s3, monkeypatch):  # noqa: F811
    """moto enforces the COMPLIANCE date by its own clock: the purge is run against a record whose date was
    moved into the past in the database, and S3's lock (still running) refuses — the record is purged, the
    object stays until its lock allows."""
    report = world.finished_report(images=1)
    record = record_of(report)
    keys = {i.sha256 for i in record.items}
    purged = retention.purge_expired(record.preserve_until + timedelta(seconds=1))
    assert purged == [record.id]
    listed = on_s3.list_object_versions(Bucket=_evidence_bucket(ctx)).get("Versions", [])
    assert keys <= {v["Key"] for v in listed}, "S3 keeps a locked object whatever the console asks"


def test_moving_a_filesystem_store_to_s3_checks_every_hash(ctx, ncmec_simulator, runner, moto_s3):  # noqa: F811
    ctx.config.update(FAST)
    settings = moto_s3.settings()
    ctx.config["STORAGE_BACKEND"] = "filesystem"
    world = World(ncmec_simulator)
    report = world.finished_report(images=2)
    record = record_of(report)
    retention.place_hold(report_id=report.id, reason="Preserve", actor=world.admin)
    media_root = storage.media_root()
    evidence_root = store.root()
    assert (evidence_root / record.items[0].sha256[:2] / record.items[0].sha256).exists()

    ctx.config.update(settings)
    ctx.extensions.pop("s3_client", None)
    from console.media import objectstore

    objectstore.create_buckets()
    s3 = objectstore.client()
    # One file damaged on disk: named, not moved.
    damaged = report.case.media[1]
    path = media_root / damaged.storage_key[:2] / damaged.storage_key
    backup = path.read_bytes()
    path.write_bytes(backup[:-1] + b"\0")
    result = runner.invoke(args=["evidence", "move-to-s3"])
    assert result.exit_code == 1 and f"MISMATCH media {damaged.storage_key}" in result.output, result.output

    path.write_bytes(backup)
    result = runner.invoke(args=["evidence", "move-to-s3"])
    assert result.exit_code == 0, result.output
    media_keys = {o["Key"] for o in s3.list_objects_v2(Bucket=settings["S3_MEDIA_BUCKET"])["Contents"]}
    assert {m.storage_key for m in report.case.media} <= media_keys
    for item in record.items:
        head = s3.head_object(Bucket=settings["S3_EVIDENCE_BUCKET"], Key=item.sha256)
        assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockLegalHoldStatus"] == "ON"
        body = s3.get_object(Bucket=settings["S3_EVIDENCE_BUCKET"], Key=item.sha256)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == item.sha256

    # The console now runs from the bucket: the local evidence folder can go, the package still verifies.
    shutil.rmtree(evidence_root)
    db.session.expire_all()
    made = package.build(report.id, reason="after the move", actor=world.admin)
    assert packagecheck.verify(io.BytesIO(made.file.read()), signer.current().public_key).ok


def test_large_objects_stream_both_ways(ctx, on_s3, tmp_path):  # noqa: F811
    """40 MiB in and out (a multipart upload: moto enforces parts of 5 MiB or more) while Python holds at most
    a few of its parts at once; the bytes come back exactly."""
    import os
    import tracemalloc

    from console.media import objectstore

    size = 40 * 1024 * 1024
    big = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(big, "wb") as out:
        for _ in range(size // (1024 * 1024)):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            out.write(chunk)
    tracemalloc.start()
    try:
        objectstore.put("media", "big", big)
        _current, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        back = hashlib.sha256()
        with objectstore.reading("media", "big") as body:
            while chunk := body.read(1024 * 1024):
                back.update(chunk)
        _current, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert back.hexdigest() == digest.hexdigest()
    head = on_s3.head_object(Bucket=_media_bucket(ctx), Key="big")
    assert head["ContentLength"] == size and head["ETag"].strip('"').endswith("-5")  # 5 parts of 8 MiB
    assert peak_in < size / 2 and peak_out < size / 8, (peak_in, peak_out)


def test_a_changed_file_never_reaches_the_locked_bucket(world, ctx, on_s3, monkeypatch):  # noqa: F811
    """Checked before it is written: a locked object of the wrong bytes could not be taken back for a year."""
    from console.evidence import preservation

    monkeypatch.setattr(preservation, "preserve_after_finish", lambda _id: None)  # the worker died
    report = world.finished_report(images=1)
    media = report.files[0].media
    changed = b"not what was sent"
    on_s3.put_object(Bucket=_media_bucket(ctx), Key=media.storage_key, Body=changed)
    assert preservation.preserve(report.id) == "incomplete"
    assert "changed since it was sent" in record_of(report).problems[0]
    keys = {v["Key"] for v in on_s3.list_object_versions(Bucket=_evidence_bucket(ctx)).get("Versions", [])}
    assert hashlib.sha256(changed).hexdigest() not in keys and media.sha256 not in keys
    assert {i.sha256 for i in record_of(report).items} <= keys


def test_no_code_makes_a_presigned_url():
    """A presigned URL would hand a browser bytes without a recorded reveal: the console makes none."""
    from tests.conftest import ROOT

    sources = [
        *(ROOT / "console").rglob("*.py"),
        *(ROOT / "jobs").rglob("*.py"),
        *(ROOT / "templates").rglob("*"),
    ]
    found = [
        str(p.relative_to(ROOT))
        for p in sources
        if p.is_file() and re.search(r"generate_presigned_(url|post)", p.read_text(errors="replace"))
    ]
    assert found == []
