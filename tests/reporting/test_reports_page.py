"""The Reports page: admins see every report, what needs attention, the XML sent, and retry or retract."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from console import tasks
from console.cases import service as cases
from console.extensions import db
from console.reporting import filing, pipeline, queries
from console.reporting.models import ExternalReport
from console.timeutil import utcnow
from tests import factories
from tests.factories import CSAM
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import run_jobs


def filed(rule, n: int = 1, *, images: int = 1, reveal: bool = True) -> list[ExternalReport]:
    """n reports, each for its own content, created the way the dialog creates them."""
    mod = factories.user("moderator")
    q = factories.queue()
    out = []
    for _ in range(n):
        c = factories.case(q, images=images)
        if reveal and images:
            cases.reveal(c.media[0].id, c.id, mod)
        report, created = filing.create_report(c, rule, CSAM, triggered_by="human", created_by=mod)
        assert created
        db.session.commit()
        out.append(report)
    return out


def as_admin(auth):
    factories.user("admin", email="admin@example.org", name="Ada Admin")
    auth.login("admin@example.org")


def test_moderators_cannot_open_reports_download_xml_retry_or_retract(ctx, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    [report] = filed(rule)
    factories.user("moderator", email="m@example.org")
    auth.login("m@example.org")
    for path in ("/reports", f"/reports/{report.id}", f"/reports/{report.id}/report.xml"):
        assert client.get(path).status_code == 403, path
    for path in (f"/reports/{report.id}/retry", f"/reports/{report.id}/retract"):
        assert auth.post(path, {"reason": "x"}).status_code == 403, path
    assert 'href="/reports"' not in client.get("/queues").text


def test_admin_sees_reports_newest_first_with_keyset_pages(ctx, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    made = filed(rule, 3, images=0)
    as_admin(auth)
    html = client.get("/reports").text
    positions = [html.index(f'id="report-{r.id}"') for r in made]
    assert positions == sorted(positions, reverse=True)
    for r in made:
        assert f"case #{r.case_id}" in html
    assert 'href="/reports"' in client.get("/queues").text

    first = queries.page_of_reports(limit=2)
    assert [r.id for r in first.reports] == [made[2].id, made[1].id] and first.next_after == made[1].id
    second = queries.page_of_reports(after=first.next_after, limit=2)
    assert [r.id for r in second.reports] == [made[0].id] and second.next_after is None
    older = client.get(f"/reports?after={made[1].id}").text
    assert f'id="report-{made[0].id}"' in older and f'id="report-{made[2].id}"' not in older


def test_needs_attention_lists_stopped_and_stale_reports(ctx, fast, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    failing, fine, stale = filed(rule, 3)
    ncmec_simulator.set_fault("submit", "code", code=4100, times=1)
    assert pipeline.drive(failing.id) == "failed"
    assert pipeline.drive(fine.id) == "finished"
    db.session.execute(
        update(ExternalReport)
        .where(ExternalReport.id == stale.id)
        .values(updated_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    as_admin(auth)
    html = client.get("/reports?state=attention").text
    assert f'id="report-{failing.id}"' in html and f'id="report-{stale.id}"' in html
    assert f'id="report-{fine.id}"' not in html
    row = html.split(f'id="report-{failing.id}"')[1].split("</tr>")[0]
    assert "Failed" in row and "4100" in row and "An admin" in row and "Retry" in row
    assert "2 reports need attention" in client.get("/reports").text
    finished = client.get("/reports?state=finished", headers={"HX-Request": "true"}).text
    assert "<html" not in finished and f'id="report-{fine.id}"' in finished
    assert f'id="report-{failing.id}"' not in finished


def test_admin_downloads_the_exact_xml_that_was_sent(ctx, fast, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    [report] = filed(rule, images=2)
    assert pipeline.drive(report.id) == "finished"
    report = db.session.get(ExternalReport, report.id)
    as_admin(auth)
    response = client.get(f"/reports/{report.id}/report.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.text == report.report_xml == ncmec_simulator.report(report.ncmec_report_id)["xml"]
    for f in report.files:
        file_xml = client.get(f"/reports/{report.id}/files/{f.id}/fileinfo.xml")
        assert file_xml.headers["Content-Disposition"].startswith("attachment")
        assert file_xml.text == f.fileinfo_xml
    detail = client.get(f"/reports/{report.id}").text
    assert report.ncmec_report_id in detail and "Download report.xml" in detail
    assert detail.count("Download fileDetails XML") == 2
    assert "report created" in detail and "report submitted" in detail and "report finished" in detail
    assert "A finished report cannot be withdrawn" in detail and ">Retract</button>" not in detail


def test_xml_not_sent_yet_is_a_404(ctx, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    [report] = filed(rule)
    as_admin(auth)
    assert client.get(f"/reports/{report.id}/report.xml").status_code == 404


def test_retry_puts_a_failed_report_back_to_work(ctx, fast, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    [report] = filed(rule)
    ncmec_simulator.set_fault("submit", "code", code=4100, times=1)
    assert pipeline.drive(report.id) == "failed"
    tasks.task_queue().empty()
    as_admin(auth)
    response = auth.post(f"/reports/{report.id}/retry", {"next": "/reports?state=attention"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports?state=attention")
    assert len(tasks.task_queue().jobs) == 1
    run_jobs(ctx)
    assert db.session.get(ExternalReport, report.id).state == "finished"
    assert "report resumed" in client.get(f"/reports/{report.id}").text
    # Never an open redirect.
    again = auth.post(f"/reports/{report.id}/retry", {"next": "https://evil.example/"})
    assert again.headers["Location"].endswith(f"/reports/{report.id}")


def test_retract_is_refused_for_a_finished_report(ctx, fast, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    [report] = filed(rule)
    assert pipeline.drive(report.id) == "finished"
    as_admin(auth)
    response = auth.post(f"/reports/{report.id}/retract", {"reason": "mistake"})
    assert response.status_code == 302
    page = client.get(f"/reports/{report.id}").text
    assert "a finished report cannot be withdrawn" in page
    assert db.session.get(ExternalReport, report.id).state == "finished"


def test_retract_an_unfinished_report_with_a_reason(ctx, fast, client, auth, ncmec_simulator):
    _p, _q, rule = reporting_setup(ncmec_simulator)
    [report] = filed(rule)
    ncmec_simulator.set_fault("finish", "http_500", times=5)
    pipeline.drive(report.id)
    as_admin(auth)
    no_reason = auth.post(f"/reports/{report.id}/retract", {"reason": ""}, token_from=f"/reports/{report.id}")
    assert no_reason.status_code == 422 and "Say why" in no_reason.text
    response = auth.post(f"/reports/{report.id}/retract", {"reason": "wrong content"})
    assert response.status_code == 302
    db.session.expire_all()
    report = db.session.get(ExternalReport, report.id)
    assert report.state == "retracted" and not report.live
    assert [r["state"] for r in ncmec_simulator.reports()] == ["retracted"]
    page = client.get(f"/reports/{report.id}").text
    assert "was retracted" in page and "wrong content" in page


def test_reports_required_count_ignores_reported_and_uncovered_cases(ctx, ncmec_simulator):
    policies, _q, rule = reporting_setup(ncmec_simulator)
    mod = factories.user("moderator")
    q = factories.queue()
    waiting = factories.case(q, content_url="https://platform.example/a")
    reported = factories.case(q, content_url="https://platform.example/b")
    spam = factories.case(q, content_url="https://platform.example/c")
    still_open = factories.case(q, content_url="https://platform.example/d", policy=policies["csam"])
    with ctx.test_request_context():
        cases.decide(waiting.id, "violation", policies["grooming"].id, mod)
        cases.decide(reported.id, "violation", policies["csam"].id, mod)
        cases.decide(spam.id, "violation", policies["spam"].id, mod)
    filing.create_report(reported, rule, CSAM, triggered_by="human", created_by=mod)
    db.session.commit()
    assert still_open.status == "open"
    assert queries.reports_required_count() == 1
    rule.enabled = False
    db.session.commit()
    assert queries.reports_required_count() == 0


def test_retract_a_never_submitted_report_without_usable_credentials(ctx, client, auth, ncmec_simulator):
    """Nothing was sent to NCMEC, so nothing needs the credentials: the report is simply retracted."""
    from console.reporting import agencies

    _p, _q, rule = reporting_setup(ncmec_simulator)
    [report] = filed(rule)
    from cryptography.fernet import Fernet

    # Encrypted with a key that has since been removed from CREDENTIALS_KEYS.
    agencies.ncmec().password_encrypted = Fernet(Fernet.generate_key()).encrypt(b"old-password")
    db.session.commit()
    as_admin(auth)
    response = auth.post(f"/reports/{report.id}/retract", {"reason": "filed by mistake"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ExternalReport, report.id).state == "retracted"
