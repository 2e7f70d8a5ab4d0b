"""The law-enforcement package: its manifest's hashes match its files; every access is on record."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile

import pytest
from sqlalchemy import select

from console.audit import AuditEvent
from console.evidence import package
from console.extensions import db
from console.media import storage
from tests import factories
from tests.evidence.helpers import FAST, World, record_of


@pytest.fixture
def world(ctx, ncmec_simulator):
    ctx.config.update(FAST)
    return World(ncmec_simulator)


def unpack(data: bytes) -> tuple[dict, dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    return json.loads(files.pop("manifest.json")), files


def test_the_manifest_hashes_match_the_files(world):
    report = world.finished_report(images=2)
    for media in report.case.media:
        storage.remove_files(media)  # the case's media is gone; the package still has the files sent
    made = package.build(report.id, reason="NCMEC request 123", actor=world.admin)
    data = made.file.read()
    manifest, files = unpack(data)

    own = {"manifest.sig", *(f["name"] for f in manifest["package_files"])}
    assert set(files) - own == {item["name"] for item in manifest["items"]}
    for item in manifest["items"]:
        assert hashlib.sha256(files[item["name"]]).hexdigest() == item["sha256"], item["name"]
        assert len(files[item["name"]]) == item["size"] and item["bytes_match_sha256"]
    sent = {f.sha256 for f in report.files}
    assert {i["sha256"] for i in manifest["items"] if i["kind"] == "file"} == sent
    assert files["report.xml"].decode() == report.report_xml
    assert manifest["report"]["ncmec_report_id"] == report.ncmec_report_id
    assert (
        manifest["package"]["reason"] == "NCMEC request 123"
        and "Ada Admin" in manifest["package"]["created_by"]
    )
    assert manifest["evidence"]["preserve_until"] == record_of(report).preserve_until.isoformat()

    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence_exported")).all()
    assert event.actor_id == world.admin.id and event.details["reason"] == "NCMEC request 123"
    raw_manifest = zipfile.ZipFile(io.BytesIO(data)).read("manifest.json")
    assert (
        event.details["manifest_sha256"] == hashlib.sha256(raw_manifest).hexdigest() == made.manifest_sha256
    )


def test_no_package_without_a_reason_or_after_a_purge(world):
    report = world.finished_report(images=1)
    with pytest.raises(package.PackageError, match="why"):
        package.build(report.id, reason="  ", actor=world.admin)
    from console.evidence import retention

    retention.purge_expired(record_of(report).preserve_until)
    with pytest.raises(package.PackageError, match="purged"):
        package.build(report.id, reason="late", actor=world.admin)


def test_an_admin_downloads_the_package_giving_a_reason(world, client, auth):
    report = world.finished_report(images=1)
    auth.login("admin@example.org")
    page = client.get(f"/evidence/reports/{report.id}")
    assert page.status_code == 200 and "Download package" in page.text and "preserved until" not in page.text
    assert record_of(report).items[0].sha256 in page.text.replace("<wbr>", "")  # shown whole, in groups

    refused = auth.post(
        f"/evidence/reports/{report.id}/package", {"reason": ""}, token_from=f"/reports/{report.id}"
    )
    assert refused.status_code == 422 and "Say why" in refused.text

    response = auth.post(
        f"/evidence/reports/{report.id}/package",
        {"reason": "FBI request 77"},
        token_from=f"/reports/{report.id}",
    )
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    manifest, files = unpack(response.data)
    assert all(hashlib.sha256(files[i["name"]]).hexdigest() == i["sha256"] for i in manifest["items"])

    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "evidence").order_by(AuditEvent.id)
    ).all()
    assert actions == ["evidence_preserved", "evidence_viewed", "evidence_exported"]
    history = client.get(f"/evidence/reports/{report.id}").text
    assert "FBI request 77" in history and "evidence exported" in history


def test_holds_from_the_evidence_page(world, client, auth):
    report = world.finished_report(images=1)
    auth.login("admin@example.org")
    url = f"/evidence/reports/{report.id}"
    placed = auth.post(
        f"{url}/holds", {"scope": "report", "reason": "Preserve", "reference": "PR-9"}, token_from=url
    )
    assert placed.status_code == 302
    page = client.get(url).text
    assert "PR-9" in page and "in force" in page
    from console.evidence.models import LegalHold

    hold = db.session.scalar(select(LegalHold))
    released = auth.post(f"/evidence/holds/{hold.id}/release", {"reason": "Request closed"}, token_from=url)
    assert released.status_code == 302
    assert "released" in client.get(url).text
    index = client.get("/evidence/")
    assert index.status_code == 200 and "Expiring in 30 days" in index.text


def test_evidence_pages_are_for_admins(world, client, auth):
    report = world.finished_report(images=1)
    factories.user("moderator", email="mod@example.org")
    auth.login("mod@example.org")
    assert client.get("/evidence/").status_code == 403
    assert client.get(f"/evidence/reports/{report.id}").status_code == 403
    response = auth.post(f"/evidence/reports/{report.id}/package", {"reason": "curious"})
    assert response.status_code == 403
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence_exported")).all()


def test_flask_evidence_export_writes_a_private_package(world, runner, tmp_path):
    report = world.finished_report(images=1)
    target = tmp_path / "out.zip"
    result = runner.invoke(
        args=["evidence", "export", str(report.id), "--reason", "LE request", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    manifest, files = unpack(target.read_bytes())
    assert all(hashlib.sha256(files[i["name"]]).hexdigest() == i["sha256"] for i in manifest["items"])
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evidence_exported")).all()
    assert event.actor_label == "cli" and event.details["reason"] == "LE request"
    again = runner.invoke(
        args=["evidence", "export", str(report.id), "--reason", "x", "--output", str(target)]
    )
    assert again.exit_code != 0 and "cannot create" in again.output
    missing = runner.invoke(args=["evidence", "export", str(report.id)])
    assert missing.exit_code != 0  # --reason is required
