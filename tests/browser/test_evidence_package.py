"""In Chromium: an admin downloads a report's law-enforcement package; `flask evidence verify-package`
passes on it and fails on a tampered copy, naming the file."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import expect

from console.extensions import db
from tests.browser.helpers import sign_in
from tests.evidence.helpers import FAST, World

pytestmark = pytest.mark.browser


def test_a_downloaded_package_verifies_and_a_tampered_copy_does_not(
    ctx, page, runner, ncmec_simulator, tmp_path
):
    ctx.config.update(FAST)
    world = World(ncmec_simulator)
    report = world.finished_report(images=1)
    report_id, ncmec_id = report.id, report.ncmec_report_id
    db.session.rollback()  # the live server writes too: SQLite lets one transaction write at a time

    sign_in(page, "admin@example.org")
    page.goto(f"/evidence/reports/{report_id}")
    expect(page.get_by_role("heading", name="Law-enforcement package")).to_be_visible()
    page.get_by_label("Reason (recorded with your name)").fill("Subpoena 2026-118")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download package").click()
    assert download.value.suggested_filename == f"report-{report_id}-evidence.zip"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)

    verified = runner.invoke(args=["evidence", "verify-package", str(saved)])
    assert verified.exit_code == 0, verified.output
    assert "verified" in verified.output and "MISMATCH" not in verified.output
    with zipfile.ZipFile(saved) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    assert ncmec_id in files["summary.html"].decode()

    # The report XML edited in a copy: the command names it and fails.
    files["report.xml"] = files["report.xml"].replace(b"</", b" </", 1)
    tampered = tmp_path / "tampered.zip"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    tampered.write_bytes(out.getvalue())
    refused = runner.invoke(args=["evidence", "verify-package", str(tampered)])
    assert refused.exit_code == 1
    assert (
        "MISMATCH report.xml: does not match the manifest" in refused.output
        and "NOT VERIFIED" in refused.output
    )
