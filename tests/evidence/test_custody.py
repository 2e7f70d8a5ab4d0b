"""Chain of custody in the package: reveals and downloads with person and page, every access to the evidence,
NCMEC's replies as received, the summary page; the package proves itself (`flask evidence verify-package`)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from console.evidence import package, packagecheck, retention, signer
from console.evidence.models import NcmecReply
from console.extensions import db
from console.reporting import filing, pipeline
from console.reporting.models import ExternalReport
from tests import factories
from tests.evidence.helpers import CSAM, FAST, World
from tests.reporting.helpers import run_follow_ups


@pytest.fixture
def world(ctx, ncmec_simulator):
    ctx.config.update(FAST)
    return World(ncmec_simulator)


def unpack(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def revealed_on_its_page_and_finished(world, client, auth) -> ExternalReport:
    """A moderator reveals the first file on the case page (over HTTP, as htmx does), its bytes load, and the
    case is reported and finished."""
    mod = factories.user("moderator", email="mod@example.org", name="Mo Derator")
    case = factories.case(world.review, images=2)
    first = case.media[0]
    auth.login("mod@example.org")
    tile = client.post(
        f"/cases/{case.id}/media/{first.id}/reveal",
        data={"csrf_token": auth.token(f"/cases/{case.id}")},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://localhost/cases/{case.id}?from=queue"},
    )
    assert tile.status_code == 200
    src = re.search(r'src="([^"]+/file[^"]*)"', tile.text).group(1).replace("&amp;", "&")
    assert client.get(src, headers={"Referer": f"http://localhost/cases/{case.id}"}).status_code == 200
    report, created = filing.create_report(case, world.rule, CSAM, triggered_by="human", created_by=mod)
    db.session.commit()
    assert pipeline.drive(report.id) == "finished"
    run_follow_ups()  # the evidence is preserved by its own job after the finish
    db.session.expire_all()
    return db.session.get(ExternalReport, report.id)


def test_every_ncmec_reply_is_kept_as_received(world):
    report = world.finished_report(images=2)
    kept = db.session.scalars(
        select(NcmecReply).where(NcmecReply.ncmec_report_id == report.ncmec_report_id).order_by(NcmecReply.id)
    ).all()
    assert [r.endpoint for r in kept] == ["submit", "upload", "fileinfo", "upload", "fileinfo", "finish"]
    assert all(r.http_status == 200 and hashlib.sha256(r.body).hexdigest() == r.sha256 for r in kept)
    # The finish reply the pipeline handed on, byte for byte, and each upload's fileId in its body.
    from tests.evidence.helpers import record_of

    assert kept[-1].body.decode() == record_of(report).finish_reply["raw"]
    for f, reply in zip(report.files, [kept[1], kept[3]], strict=True):
        assert f.ncmec_file_id.encode() in reply.body

    made = package.build(report.id, reason="LE request", actor=world.admin)
    files = unpack(made.file.read())
    in_package = sorted(name for name in files if name.startswith("ncmec/replies/"))
    assert len(in_package) == 6 and in_package[0].startswith("ncmec/replies/001-submit-")
    assert [files[name] for name in in_package] == [bytes(r.body) for r in kept]


def test_an_abandoned_reports_retract_reply_is_in_the_package(world):
    """An upload refused with an error code (its reply kept too), the report started over: retract's reply."""
    case = factories.case(world.review, images=1)
    report, _ = filing.create_report(case, world.rule, CSAM, triggered_by="human", created_by=world.moderator)
    db.session.commit()
    world.simulator.set_fault("upload", "code", code=1000, times=None)
    pipeline.drive(report.id)
    world.simulator.clear_faults()
    db.session.expire_all()
    first_id = db.session.get(ExternalReport, report.id).ncmec_report_id
    from console.reporting.models import ReportFile
    from console.timeutil import utcnow

    db.session.execute(
        db.update(ReportFile).where(ReportFile.report_id == report.id).values(upload_started_at=utcnow())
    )
    db.session.execute(db.update(ExternalReport).values(next_attempt_at=None, lease_owner=None))
    db.session.commit()
    assert pipeline.drive(report.id) == "finished"
    run_follow_ups()
    endpoints = db.session.scalars(
        select(NcmecReply.endpoint).where(NcmecReply.ncmec_report_id == first_id).order_by(NcmecReply.id)
    ).all()
    assert endpoints[0] == "submit" and "upload" in endpoints and endpoints[-1] == "retract"
    refused = db.session.scalar(select(NcmecReply).where(NcmecReply.endpoint == "upload"))
    assert b"1000" in refused.body  # the error reply, kept although the call raised
    files = unpack(package.build(report.id, reason="LE", actor=world.admin).file.read())
    assert any(name.startswith("ncmec/replies/") and f"-retract-{first_id}" in name for name in files)


def test_the_package_carries_the_chain_of_custody(world, client, auth):
    report = revealed_on_its_page_and_finished(world, client, auth)
    record = package.record_of(report.id)
    package.record_view(record, actor=world.admin, why="evidence page")
    hold = retention.place_hold(report_id=report.id, reason="Preserve", reference="PR-1", actor=world.admin)
    retention.release_hold(hold.id, reason="Closed", actor=world.admin)

    made = package.build(report.id, reason="FBI request 9", actor=world.admin)
    files = unpack(made.file.read())
    steps = json.loads(files["custody.json"])["steps"]
    actions = [s["action"] for s in steps]
    for expected in (
        "media_revealed",
        "media_downloaded",
        "report_submitted",
        "report_finished",
        "evidence_preserved",
        "evidence_viewed",
        "legal_hold_placed",
        "legal_hold_released",
    ):
        assert expected in actions, expected
    reveal = next(s for s in steps if s["action"] == "media_revealed")
    assert reveal["who"] == "Mo Derator <mod@example.org>" and reveal["page"].startswith(
        f"/cases/{report.case_id}"
    )
    download = next(s for s in steps if s["action"] == "media_downloaded")
    assert download["page"] == f"/cases/{report.case_id}" and "1: " in download["what"]
    # Every step is proven (the log is sealed before packing), each against the one checkpoint.
    proofs = json.loads(files["proofs.json"])
    assert all(s["proof"] is not None for s in steps) and len(proofs["proofs"]) == len(steps)

    summary = files["summary.html"].decode()
    assert report.ncmec_report_id in summary and "FBI request 9" in summary and "Mo Derator" in summary
    for f in report.files:
        assert f.sha256 in summary and f.ncmec_file_id in summary
    assert "<script" not in summary

    # A second package shows the first export in its custody.
    again = unpack(package.build(report.id, reason="second", actor=world.admin).file.read())
    assert "evidence_exported" in [s["action"] for s in json.loads(again["custody.json"])["steps"]]


def test_the_package_verifies_and_a_tampered_copy_does_not(world, runner, tmp_path):
    report = world.finished_report(images=1)
    target = tmp_path / "package.zip"
    assert (
        runner.invoke(
            args=["evidence", "export", str(report.id), "--reason", "LE", "--output", str(target)]
        ).exit_code
        == 0
    )
    ok = runner.invoke(args=["evidence", "verify-package", str(target)])
    assert ok.exit_code == 0 and "verified" in ok.output and "inclusion proofs:" in ok.output, ok.output

    key = signer.current().public_key
    files = unpack(target.read_bytes())
    [image] = [n for n in files if n.startswith("files/") and not n.endswith(".xml")]

    # One byte of a file changed.
    changed = dict(files, **{image: files[image][:-1] + bytes([files[image][-1] ^ 1])})
    result = packagecheck.verify(io.BytesIO(rezip(changed)), key)
    assert not result.ok and any(p.startswith(f"{image}: does not match") for p in result.problems)

    # The file and the manifest changed together: the manifest's signature no longer matches.
    manifest = json.loads(files["manifest.json"])
    for item in manifest["items"]:
        if item["name"] == image:
            item["sha256"] = hashlib.sha256(changed[image]).hexdigest()
    forged = dict(changed, **{"manifest.json": json.dumps(manifest).encode()})
    result = packagecheck.verify(io.BytesIO(rezip(forged)), key)
    assert result.problems == [
        "manifest.json: changed since it was signed (its SHA-256 is not the signed one)"
    ]

    # A custody step rewritten: its hash no longer matches, and it is not the event its proof proves.
    custody = json.loads(files["custody.json"])
    custody["steps"][0]["event"] = custody["steps"][0]["event"].replace('"at":"20', '"at":"19')
    result = packagecheck.verify(
        io.BytesIO(rezip(dict(files, **{"custody.json": json.dumps(custody).encode()}))), key
    )
    assert any(p.startswith("custody.json: does not match") for p in result.problems)
    assert any("is not the event its proof proves" in p for p in result.problems)

    # An extra file, a missing one, another console's key.
    result = packagecheck.verify(io.BytesIO(rezip(dict(files, **{"files/extra.jpg": b"x"}))), key)
    assert result.problems == ["files/extra.jpg: in the zip but not in the manifest"]
    result = packagecheck.verify(io.BytesIO(rezip({k: v for k, v in files.items() if k != image})), key)
    assert result.problems == [f"{image}: listed in the manifest, missing from the zip"]
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate().public_key()
    result = packagecheck.verify(io.BytesIO(target.read_bytes()), other)
    assert "manifest.sig: not signed by this key" in result.problems
    assert any(p.startswith("proofs.json: the checkpoint:") for p in result.problems)

    (tmp_path / "tampered.zip").write_bytes(rezip(changed))
    bad = runner.invoke(args=["evidence", "verify-package", str(tmp_path / "tampered.zip")])
    assert (
        bad.exit_code == 1
        and f"MISMATCH {image}: does not match" in bad.output
        and "NOT VERIFIED" in bad.output
    )
    pem = tmp_path / "key.pem"
    pem.write_text(signer.current().public_pem())
    assert (
        runner.invoke(args=["evidence", "verify-package", str(target), "--public-key", str(pem)]).exit_code
        == 0
    )


def test_the_public_key_is_in_settings(world, client, auth):
    auth.login("admin@example.org")
    page = client.get("/settings/").text
    assert signer.current().verifier_key() in page
    assert "flask audit public-key" in page
