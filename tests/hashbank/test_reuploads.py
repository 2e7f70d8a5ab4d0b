"""A re-upload of reported content is recognised at ingestion, shown with the earlier CyberTip, routed to the
child-safety review queue, and — once a person confirms — reported again naming the earlier CyberTip."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console.api import tokens
from console.cases.models import Case
from console.extensions import db
from console.hashbank.models import HashEntry, HashMatch, HashSource
from console.reporting import pipeline
from console.reporting.models import ExternalReport
from tests import factories
from tests.hashbank.helpers import encoded, picture, post_case, reencoded
from tests.reporting.helpers import reporting_setup, run_follow_ups


@pytest.fixture
def world(app, ctx, client, auth, ncmec_simulator):
    """A rule, a moderator, a token, and one image reported to NCMEC (finished): its CyberTip id."""
    app.config.update(NCMEC_CONNECT_TIMEOUT=1, NCMEC_READ_TIMEOUT=2, REPORT_RETRY_BASE_SECONDS=0)
    policies, review, rule = reporting_setup(ncmec_simulator)
    user_reports = factories.queue("User reports", "user_report")
    factories.user("moderator", email="mod@example.org")
    _token, raw = tokens.create_token("upload-scanner")
    db.session.commit()
    auth.login("mod@example.org")

    original = encoded(picture(1))
    posted = post_case(
        client,
        raw,
        "post-original",
        [("original.png", original, "image/png")],
        ai_decision={"policy": "csam", "confidence": 0.97, "model": "classifier"},
    )
    report = confirm(auth, posted["case_id"], policies["csam"].id)
    assert pipeline.drive(report.id) == "finished"
    run_follow_ups()  # the jobs the finish set going
    db.session.expire_all()
    report = db.session.get(ExternalReport, report.id)

    class World:
        pass

    w = World()
    w.policies, w.review, w.rule, w.user_reports, w.token = policies, review, rule, user_reports, raw
    w.original, w.report, w.cybertip = original, report, report.ncmec_report_id
    return w


def confirm(auth, case_id: int, policy_id: int) -> ExternalReport | None:
    """A moderator confirms the violation; returns the report it created (automatic flow), if any."""
    response = auth.post(
        f"/cases/{case_id}/decision",
        {"verdict": "violation", "policy": policy_id},
        htmx=True,
        token_from=f"/cases/{case_id}",
    )
    assert response.status_code == 200
    db.session.expire_all()
    return db.session.scalar(select(ExternalReport).where(ExternalReport.case_id == case_id))


def test_a_finished_report_banks_its_files_hashes_under_its_cybertip(world):
    source = db.session.scalar(select(HashSource).where(HashSource.report_id == world.report.id))
    assert source is not None and source.cybertip_id == world.cybertip
    algorithms = set(db.session.scalars(select(HashEntry.algorithm).where(HashEntry.source_id == source.id)))
    assert algorithms == {"sha256", "md5", "pdq"}


def test_an_exact_reupload_by_another_user_is_its_own_report_naming_the_earlier_cybertip(
    world, client, auth, ncmec_simulator
):
    posted = post_case(client, world.token, "post-copy", [("copy.png", world.original, "image/png")])
    case = db.session.get(Case, posted["case_id"])
    # Sent as a user report, it waits in the child-safety review queue instead.
    assert posted["queue"] == world.review.slug and case.queue_id == world.review.id
    page = client.get(f"/cases/{case.id}").text
    assert "Matches reported content" in page and f"CyberTip {world.cybertip}" in page
    assert "the same file (SHA-256)" in page
    assert "This upload is its own content" in page

    # The same bytes in another post are another item on the platform: confirmed, it is reported too.
    second = confirm(auth, case.id, world.policies["csam"].id)
    assert second is not None and second.id != world.report.id and second.triggered_by == "ai"
    assert second.payload["prior_ct_reports"] == [world.cybertip]
    assert pipeline.drive(second.id) == "finished"
    run_follow_ups()  # the jobs the finish set going
    db.session.expire_all()
    second = db.session.get(ExternalReport, second.id)
    received = ncmec_simulator.report(second.ncmec_report_id)
    assert received["state"] == "finished" and second.ncmec_report_id != world.cybertip
    assert f"<priorCTReports>{world.cybertip}</priorCTReports>" in received["xml"]
    assert [f["md5"] for f in received["files"]] == [second.files[0].md5]
    # Two finished reports at the service, one per post.
    finished = [r for r in ncmec_simulator.reports() if r["state"] == "finished"]
    assert {r["report_id"] for r in finished} == {world.cybertip, second.ncmec_report_id}
    page = client.get(f"/cases/{case.id}").text
    assert second.ncmec_report_id in page and "(the same content item)" not in page
    # The transparency figures count it as a follow-up of the earlier CyberTip.
    from console.transparency import queries as transparency

    assert transparency.figures(transparency.default_period()).follow_up_reports == 1


def test_the_same_file_posted_twice_by_one_user_is_two_reports(world, client, auth, ncmec_simulator):
    """The world's original was posted by "user-of-post-original"; the same person posts it again."""
    posted = post_case(
        client,
        world.token,
        "post-again-by-the-same-user",
        [("again.png", world.original, "image/png")],
        reported_user={"platform_id": "user-of-post-original", "name": "Sam Uploader"},
    )
    case = db.session.get(Case, posted["case_id"])
    assert case.reported_user_id == world.report.case.reported_user_id
    dialog_before = client.get(f"/cases/{case.id}").text
    assert f"CyberTip {world.cybertip}" in dialog_before
    again = confirm(auth, case.id, world.policies["csam"].id)
    assert again is not None and again.id != world.report.id
    # Named once, though both the user's history and the file's match point at it.
    assert again.payload["prior_ct_reports"] == [world.cybertip]
    assert pipeline.drive(again.id) == "finished"
    run_follow_ups()  # the jobs the finish set going
    finished = [r for r in ncmec_simulator.reports() if r["state"] == "finished"]
    assert len(finished) == 2


def test_a_reencoded_resized_reupload_is_matched_and_reported_naming_the_earlier_cybertip(
    world, client, auth, ncmec_simulator
):
    smaller_jpeg = reencoded(world.original, scale=0.5, quality=70)
    posted = post_case(client, world.token, "post-reencoded", [("small.jpg", smaller_jpeg, "image/jpeg")])
    case = db.session.get(Case, posted["case_id"])
    assert case.queue_id == world.review.id
    match = db.session.scalar(select(HashMatch).where(HashMatch.case_id == case.id))
    assert match.algorithm == "pdq" and 0 < match.distance <= 31 and match.cybertip_id == world.cybertip
    page = client.get(f"/cases/{case.id}").text
    assert f"CyberTip {world.cybertip}" in page and "a similar picture (PDQ" in page

    # New bytes are new content: confirmed in the review queue, it is filed automatically as a follow-up.
    follow_up = confirm(auth, case.id, world.policies["csam"].id)
    assert follow_up is not None and follow_up.triggered_by == "ai"
    assert follow_up.payload["prior_ct_reports"] == [world.cybertip]
    assert pipeline.drive(follow_up.id) == "finished"
    run_follow_ups()  # the jobs the finish set going
    db.session.expire_all()
    follow_up = db.session.get(ExternalReport, follow_up.id)
    xml = ncmec_simulator.report(follow_up.ncmec_report_id)["xml"]
    assert f"<priorCTReports>{world.cybertip}</priorCTReports>" in xml


def test_an_unrelated_image_is_not_matched(world, client):
    posted = post_case(client, world.token, "post-other", [("other.png", encoded(picture(2)), "image/png")])
    case = db.session.get(Case, posted["case_id"])
    assert case.queue_id == world.user_reports.id and not case.ai_detected
    assert db.session.scalar(select(func.count()).select_from(HashMatch)) == 0
    assert "Matches reported content" not in client.get(f"/cases/{case.id}").text
