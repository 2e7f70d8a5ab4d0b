"""Filling the bank: finished reports (even when the finish hook fails), lists an admin imports; and what an
upstream detector's hashes and large images do at ingestion."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from console.api import tokens
from console.cases.models import Case
from console.extensions import db
from console.hashbank import bank, lists
from console.hashbank.hashing import pdq_of_image
from console.hashbank.models import HashEntry, HashMatch, HashSource, MediaHash
from console.media import storage
from console.reporting import filing, pipeline
from console.reporting.models import ReportFollowUp
from tests import factories
from tests.hashbank.helpers import encoded, picture, post_case, post_hashes, reencoded
from tests.reporting.helpers import reporting_setup, run_follow_ups


def pdq(seed: int) -> str:
    """The PDQ of picture(seed), as the console computes it."""
    return pdq_of_image(io.BytesIO(encoded(picture(seed))))[0]


@pytest.fixture
def setup(app, ctx, ncmec_simulator):
    app.config.update(NCMEC_CONNECT_TIMEOUT=1, NCMEC_READ_TIMEOUT=2, REPORT_RETRY_BASE_SECONDS=0)
    policies, review, rule = reporting_setup(ncmec_simulator)
    user_reports = factories.queue("User reports", "user_report")
    _token, raw = tokens.create_token("upload-scanner")
    db.session.commit()
    return policies, review, rule, user_reports, raw


def finished_report(review, rule, seed: int = 1):
    mod = factories.user("moderator")
    case = factories.case(review)
    storage.store(case.id, "reported.png", io.BytesIO(encoded(picture(seed))), "image/png")
    db.session.commit()
    db.session.refresh(case)
    report, _created = filing.create_report(case, rule, factories.CSAM, triggered_by="human", created_by=mod)
    db.session.commit()
    return report


# --- banking ------------------------------------------------------------------------------------------------


def test_a_banking_job_that_fails_leaves_the_report_finished_and_the_sweep_banks_it(setup, monkeypatch):
    _policies, review, rule, _q, _raw = setup
    report = finished_report(review, rule)

    def broken(report_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bank, "bank_report", broken)
    assert pipeline.drive(report.id) == "finished"
    with pytest.raises(RuntimeError, match="disk on fire"):
        run_follow_ups()
    assert db.session.scalar(select(func.count()).select_from(HashSource)) == 0
    follow_up = db.session.get(ReportFollowUp, (report.id, bank.BANK_JOB))
    assert follow_up.state == "pending" and follow_up.attempts == 1 and "disk on fire" in follow_up.last_error
    monkeypatch.undo()

    assert bank.sweep() == 1
    source = db.session.scalar(select(HashSource))
    # SHA-256 and MD5; and PDQ: stored without the API, the file had none, and the sweep hashed it.
    assert source.report_id == report.id and source.entry_count == 3
    assert bank.sweep() == 0  # banked once


def test_the_bank_keeps_no_pdq_of_a_featureless_image(setup, client):
    _policies, review, rule, _q, raw = setup
    posted = post_case(client, raw, "post-flat", [("flat.png", factories.png_bytes(1), "image/png")])
    case = db.session.get(Case, posted["case_id"])
    assert db.session.scalar(select(MediaHash.quality).where(MediaHash.algorithm == "pdq")) < 50
    report, _ = filing.create_report(case, rule, factories.CSAM, triggered_by="human")
    db.session.commit()
    assert pipeline.drive(report.id) == "finished"
    run_follow_ups()  # the jobs the finish set going
    assert set(db.session.scalars(select(HashEntry.algorithm))) == {"sha256", "md5"}


# --- importing a list ---------------------------------------------------------------------------------------


def test_an_admin_imports_a_list_and_an_upload_matching_it_is_routed(setup, client, auth):
    _policies, review, _rule, user_reports, raw = setup
    factories.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    csv_text = f"algorithm,hash,cybertip_id\npdq,{pdq(3)},4242\nmd5,{'a1' * 16},\nphotodna,AbC+/=,\n"
    response = auth.post(
        "/hash-bank/import",
        {"label": "Industry list 2026-11", "hash_list": (io.BytesIO(csv_text.encode()), "list.csv")},
        token_from="/hash-bank/",
    )
    assert response.status_code == 302
    page = client.get("/hash-bank/").text
    assert "Imported 3 hashes" in page and "Industry list 2026-11" in page
    auth.post(
        "/hash-bank/import",
        {
            "label": "One more",
            "hash_list": (io.BytesIO(f"algorithm,hash\nmd5,{'b2' * 16}\n".encode()), "one.csv"),
        },
        token_from="/hash-bank/",
    )
    assert "Imported 1 hash from" in client.get("/hash-bank/").text

    posted = post_case(client, raw, "post-listed", [("x.jpg", reencoded(encoded(picture(3))), "image/jpeg")])
    case = db.session.get(Case, posted["case_id"])
    assert case.queue_id == review.id
    assert "CyberTip 4242" in client.get(f"/cases/{case.id}").text


def test_a_list_with_a_bad_line_imports_nothing_and_says_which(setup, client, auth):
    factories.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    csv_text = f"algorithm,hash\npdq,{pdq(3)}\npdq,not-a-hash\nsha256,{'b' * 63}\n"
    response = auth.post(
        "/hash-bank/import",
        {"label": "Broken", "hash_list": (io.BytesIO(csv_text.encode()), "list.csv")},
        token_from="/hash-bank/",
    )
    assert response.status_code == 422
    assert "line 3: a pdq hash is 64 hexadecimal digits" in response.text
    assert "line 4: a sha256 hash is 64 hexadecimal digits" in response.text
    assert db.session.scalar(select(func.count()).select_from(HashEntry)) == 0


def test_the_bank_is_for_admins(setup, client, auth):
    factories.user("moderator", email="mod@example.org")
    auth.login("mod@example.org")
    assert client.get("/hash-bank/").status_code == 403
    response = auth.post("/hash-bank/import", {"label": "x"})
    assert response.status_code == 403


def test_a_large_list_is_imported_from_the_command_line(setup, runner, tmp_path):
    lines = ["algorithm,hash"] + [f"sha256,{i:064x}" for i in range(1, 12_001)] + [f"sha256,{1:064x}"]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(args=["hashbank", "import", str(path), "--label", "Big list"])
    assert result.exit_code == 0, result.output
    assert "imported 12000 hashes" in result.output  # the repeated line is kept once
    assert db.session.scalar(select(func.count()).select_from(HashEntry)) == 12_000


# --- a detector's hashes, large images ----------------------------------------------------------------------


def test_a_detectors_hashes_are_matched_and_kept(setup, client):
    _policies, review, _rule, _q, raw = setup
    lists.import_list(b"algorithm,hash,cybertip_id\nvideohash,VH-77,9001\n", "Video list")
    flat = factories.png_bytes(5)
    posted = post_case(
        client, raw, "post-video", [("frame.png", flat, "image/png")], media_hashes=[{"videohash": "VH-77"}]
    )
    case = db.session.get(Case, posted["case_id"])
    assert case.queue_id == review.id
    match = db.session.scalar(select(HashMatch).where(HashMatch.case_id == case.id))
    assert (match.algorithm, match.cybertip_id) == ("videohash", "9001")
    kept = db.session.scalar(select(MediaHash).where(MediaHash.computed_by == "detector"))
    assert (kept.algorithm, kept.value) == ("videohash", "VH-77")


@pytest.mark.parametrize(
    ("media_hashes", "field", "message"),
    [
        ([{"pdq": "xyz"}], "media_hashes[0].pdq", "64 hexadecimal digits"),
        ([{"sha256": "a" * 64}], "media_hashes[0].sha256", "computed by the console"),
        ([{}, {}], "media_hashes", "one per part"),
        ({"pdq": "a"}, "media_hashes", "one object per media part"),
        ([{"Bad Name": "x"}], "media_hashes[0]", "an algorithm is named"),
    ],
)
def test_bad_detector_hashes_are_named(setup, client, media_hashes, field, message):
    _policies, _review, _rule, _q, raw = setup
    response = post_hashes(client, raw, media_hashes)
    assert response.status_code == 422
    assert message in response.json["errors"][field]


def test_a_large_image_is_hashed_and_matched_by_a_job_after_the_request(setup, app, client):
    _policies, review, rule, user_reports, raw = setup
    report = finished_report(review, rule, seed=4)
    assert pipeline.drive(report.id) == "finished"
    run_follow_ups()  # the jobs the finish set going
    bank.sweep()  # the file was stored without a PDQ (not through the API): the sweep hashes it
    app.config["MEDIA_INLINE_PREVIEW_PIXELS"] = 10_000  # every PNG is "large" now
    big = encoded(picture(4).resize((1280, 960)))
    posted = post_case(client, raw, "post-big", [("big.png", big, "image/png")])
    case = db.session.get(Case, posted["case_id"])
    assert case.queue_id == user_reports.id  # not hashed in the request

    from tests.reporting.test_ai_flow import run_worker

    run_worker(app)
    case = db.session.get(Case, case.id)
    assert case.queue_id == review.id and case.ai_detected
    assert db.session.scalar(select(HashMatch.cybertip_id).where(HashMatch.case_id == case.id)) == (
        report.ncmec_report_id
    )
