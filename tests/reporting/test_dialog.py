"""A moderator confirms a child-safety violation, the "Report to NCMEC" dialog opens, the report is filed."""

from __future__ import annotations

import json
import threading

import lxml.html
import pytest

from console import tasks
from console.cases import service as cases
from console.extensions import db
from console.ncmec import IncidentType
from console.policies.models import Policy
from console.reporting.models import ExternalReport, ReportingRule
from jobs.worker import ConsoleWorker
from tests import factories
from tests.conftest import csrf_from
from tests.factories import CSAM
from tests.reporting.helpers import reporting_setup

ENTICEMENT = IncidentType.ONLINE_ENTICEMENT.value


def run_jobs(app) -> None:
    """A real RQ worker of the production class in burst mode, in this process, running the jobs against the
    test app: the filing queue, then the follow-ups of finished reports."""
    import jobs

    db.session.commit()  # no transaction held: on SQLite it would hold the write lock the worker needs
    jobs.use_app(app)
    ConsoleWorker([tasks.task_queue()], connection=tasks.redis_connection()).work(burst=True)
    db.session.expire_all()


def csam_case(simulator, **case_kw):
    """A moderator, the NCMEC rule on "Child safety", an open CSAM case with two images in a user queue."""
    policies, _review, rule = reporting_setup(simulator)
    mod = factories.user("moderator", email="mod@example.org", name="Mo Moderator")
    q = factories.queue("User reports", "user_report")
    kw = dict(
        images=2,
        content_url="https://platform.example/p/42",
        reported_user={"platform_id": "u-42", "name": "Rex Reported", "email": "rex@platform.example"},
    )
    c = factories.case(q, **{**kw, **case_kw})
    return policies, rule, mod, c


def confirm(auth, case_id: int, policy_id: int):
    return auth.post(
        f"/cases/{case_id}/decision",
        {"verdict": "violation", "policy": policy_id},
        htmx=True,
        token_from=f"/cases/{case_id}",
    )


def submit(auth, case_id: int, incident_type: str | None = CSAM, *, htmx=True, **extra):
    data = {**({"incident_type": incident_type} if incident_type else {}), **extra}
    return auth.post(
        f"/cases/{case_id}/ncmec-report", data, htmx=htmx, token_from=f"/cases/{case_id}/ncmec-report"
    )


def reports() -> list[ExternalReport]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(ExternalReport).order_by(ExternalReport.id)))


def test_confirming_a_covered_violation_opens_the_dialog_with_exactly_what_will_be_sent(
    ctx, client, auth, ncmec_simulator
):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    first, second = c.media
    cases.reveal(first.id, c.id, mod)
    auth.login("mod@example.org")

    decided = confirm(auth, c.id, policies["csam"].id)
    assert decided.status_code == 200
    trigger = json.loads(decided.headers["HX-Trigger-After-Settle"])
    assert trigger == {"open-dialog": f"/cases/{c.id}/ncmec-report"}

    dialog = client.get(f"/cases/{c.id}/ncmec-report", headers={"HX-Request": "true"})
    html = dialog.text
    assert dialog.status_code == 200 and "<html" not in html  # a fragment for the <dialog>
    assert 'id="modal-title">Report to NCMEC' in html
    assert "https://platform.example/p/42" in html
    assert "Rex Reported" in html and "rex@platform.example" in html and "u-42" in html
    assert c.reported_at.strftime("%Y-%m-%d %H:%M") in html
    assert "Rita Reporter" in html and "rita@example.org" in html
    assert "cannot be withdrawn once NCMEC accepts it" in html
    # Blurred thumbnails (the preview image, never the file) and the view record per file, not a checkbox.
    assert f"/cases/{c.id}/media/{first.id}/preview" in html and f"/media/{first.id}/file" not in html
    first_item = html.split(f'id="ncmec-file-{first.id}"')[1].split("</li>")[0]
    second_item = html.split(f'id="ncmec-file-{second.id}"')[1].split("</li>")[0]
    assert "Viewed by a person: <strong>yes</strong>" in first_item
    assert "Viewed by a person: <strong>no</strong>" in second_item
    # "Viewed by a person" is the record, never a checkbox: the checkboxes are the moderator's choices.
    boxes = set(lxml.html.fromstring(html).xpath('//input[@type="checkbox"]/@name'))
    assert boxes == {
        "escalate",
        "report_annotations",
        f"file_annotations_{first.id}",
        f"file_annotations_{second.id}",
    }
    assert (
        html.count("Industry classification") == 2 and "A1 — Prepubescent minor engaged in a sex act" in html
    )
    # The eight incident types with their guidance, the policy's default preselected.
    assert "Incident type" in html
    assert html.count('name="incident_type"') == 8
    for t in IncidentType:
        assert t.label in html and t.guidance in html
    checked = [
        part for part in html.split("<input")[1:] if 'name="incident_type"' in part and "checked" in part
    ]
    assert len(checked) == 1 and f'value="{CSAM}"' in checked[0]
    assert "Submit report" in html and "Not now" in html and "data-close-dialog" in html

    # The same URL is a full page without JavaScript.
    page = client.get(f"/cases/{c.id}/ncmec-report")
    assert "<html" in page.text and "Report to NCMEC" in page.text and "Submit report" in page.text
    assert f'href="/cases/{c.id}"' in page.text  # "Not now" is a link back to the case


def test_a_violation_not_covered_by_a_rule_opens_no_dialog(ctx, client, auth, ncmec_simulator):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    decided = confirm(auth, c.id, policies["spam"].id)
    assert "HX-Trigger-After-Settle" not in decided.headers
    dialog = client.get(f"/cases/{c.id}/ncmec-report")
    assert "No NCMEC report is needed" in dialog.text and "Submit report" not in dialog.text
    assert submit(auth, c.id).status_code == 200 and reports() == []
    assert "NCMEC reports required: 0" in client.get("/queues").text


def test_submit_creates_the_report_enqueues_after_commit_and_closes_the_dialog(
    ctx, fast, client, auth, ncmec_simulator
):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)

    response = submit(auth, c.id, ENTICEMENT, **{f"classification_{c.media[0].id}": "A2"})
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "close-dialog"
    html = response.text
    assert 'id="ncmec-reporting"' in html and 'hx-trigger="every 2s"' in html and "Queued" in html
    # The banner is refreshed out of band: the report exists, so "required" is gone.
    assert 'id="case-banners" hx-swap-oob="true"' in html and "NCMEC report required" not in html
    [report] = reports()
    assert report.state == "queued" and report.incident_type == ENTICEMENT and report.triggered_by == "human"
    assert report.created_by_id == mod.id
    assert [f.industry_classification for f in report.files] == ["A2", None]
    queued = tasks.task_queue().jobs
    assert [(j.func_name, j.args) for j in queued] == [("jobs.reports.file_report", (report.id,))]


def test_incident_type_is_required_and_must_be_one_of_the_eight(ctx, client, auth, ncmec_simulator):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    for value in (None, "Something else"):
        response = submit(auth, c.id, value)
        assert response.headers["HX-Retarget"] == "#modal-body"
        assert "Report to NCMEC" in response.text and 'role="alert"' in response.text
    bad_class = submit(auth, c.id, CSAM, **{f"classification_{c.media[0].id}": "Z9"})
    assert bad_class.headers["HX-Retarget"] == "#modal-body"
    assert reports() == []
    no_js = submit(auth, c.id, None, htmx=False)
    assert no_js.status_code == 422 and "<html" in no_js.text


def test_submitting_needs_the_csrf_token(ctx, client, auth, ncmec_simulator):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    response = client.post(f"/cases/{c.id}/ncmec-report", data={"incident_type": CSAM})
    assert response.status_code == 400 and reports() == []


def test_posting_the_form_twice_files_one_report(ctx, fast, client, auth, ncmec_simulator):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    submit(auth, c.id)
    again = submit(auth, c.id)
    assert "Already reported" in again.text and "Submit report" not in again.text
    assert again.headers["HX-Retarget"] == "#modal-body"
    assert len(reports()) == 1 and len(tasks.task_queue().jobs) == 1
    # Without JavaScript: back to the case, with the same message.
    plain = submit(auth, c.id, htmx=False)
    assert plain.status_code == 302 and len(reports()) == 1


def test_already_reported_content_shows_the_report_and_no_submit_button(ctx, client, auth, ncmec_simulator):
    from console.media import storage

    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    submit(auth, c.id)
    [report] = reports()
    dialog = client.get(f"/cases/{c.id}/ncmec-report", headers={"HX-Request": "true"}).text
    assert "Already reported" in dialog and f"report #{report.id}" in dialog and "Submit report" not in dialog

    # Re-reviewed, the same case still has one report.
    again = submit(auth, c.id)
    assert "Already reported" in again.text and len(reports()) == 1

    # The same bytes come back in another post: another item on the platform, reported in its own right.
    twin = factories.case(factories.queue("Proactive", "proactive"), images=0)
    for m in c.media:
        with open(storage.path_for(m), "rb") as fh:
            storage.store(twin.id, "again-" + m.original_name, fh, "image/png")
    db.session.commit()
    twin_id = twin.id
    confirm(auth, twin_id, policies["csam"].id)
    dialog = client.get(f"/cases/{twin_id}/ncmec-report", headers={"HX-Request": "true"}).text
    assert "Already reported" not in dialog and "Submit report" in dialog
    assert "NCMEC report required" in client.get(f"/cases/{twin_id}").text
    submit(auth, twin_id)
    assert sorted(r.case_id for r in reports()) == sorted([c.id, twin_id])


def test_not_now_leaves_a_banner_and_a_count_on_the_queues_page(ctx, client, auth, ncmec_simulator):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    assert "NCMEC reports required: 0" in client.get("/queues").text
    decided = confirm(auth, c.id, policies["csam"].id)
    # The decision's own response already carries the banner (out of band) and the panel's button.
    assert 'id="case-banners" hx-swap-oob="true"' in decided.text
    assert "NCMEC report required" in decided.text and "data-open-dialog" in decided.text

    page = client.get(f"/cases/{c.id}").text
    banner = page.split('id="case-banners"')[1].split("</div>\n</div>")[0]
    assert "NCMEC report required" in banner and f'href="/cases/{c.id}/ncmec-report"' in banner
    assert "NCMEC reports required: 1" in client.get("/queues").text

    submit(auth, c.id)
    assert "NCMEC reports required: 0" in client.get("/queues").text
    assert "NCMEC report required" not in client.get(f"/cases/{c.id}").text


def test_the_status_polls_until_finished_and_shows_the_ncmec_report_id(
    ctx, fast, client, auth, ncmec_simulator
):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    submit(auth, c.id)
    status_url = f"/cases/{c.id}/ncmec-status"
    before = client.get(status_url, headers={"HX-Request": "true"}).text
    assert 'hx-trigger="every 2s"' in before and "Queued" in before

    run_jobs(ctx)
    [report] = reports()
    assert report.state == "finished" and report.ncmec_report_id
    after = client.get(status_url, headers={"HX-Request": "true"}).text
    assert report.ncmec_report_id in after and "Finished" in after and "2 of 2 uploaded" in after
    assert "hx-trigger" not in after.split('id="case-banners"')[0]  # polling stops
    assert report.ncmec_report_id in client.get(f"/cases/{c.id}").text
    assert client.get(status_url).status_code == 302  # without htmx: the case page


@pytest.mark.parametrize(
    ("fault", "state", "who"),
    [
        ("schema", "Failed", "An admin: NCMEC refused"),
        ("credentials", "Waiting for credentials", "credentials"),
    ],
)
def test_a_stopped_report_shows_the_reason_and_who_can_fix_it(
    ctx, fast, client, auth, ncmec_simulator, fault, state, who
):
    from console.reporting import agencies, credentials

    policies, rule, mod, c = csam_case(ncmec_simulator)
    if fault == "schema":
        ncmec_simulator.set_fault("submit", "code", code=4100, times=1)
    else:
        agencies.ncmec().password_encrypted = credentials.encrypt("wrong")
        db.session.commit()
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    submit(auth, c.id)
    run_jobs(ctx)
    html = client.get(f"/cases/{c.id}/ncmec-status", headers={"HX-Request": "true"}).text
    assert state in html and "Who can fix it" in html and who in html
    assert "hx-trigger" not in html.split('id="case-banners"')[0]  # parked: polling stops
    [report] = reports()
    assert report.last_error and report.last_error in html


def test_the_simulator_receives_exactly_what_the_dialog_showed(ctx, fast, client, auth, ncmec_simulator):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    cases.reveal(c.media[0].id, c.id, mod)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    submit(auth, c.id, ENTICEMENT, **{f"classification_{c.media[0].id}": "B1"})
    run_jobs(ctx)

    [report] = reports()
    [received] = ncmec_simulator.reports("finished")
    assert received["report_id"] == report.ncmec_report_id
    full = ncmec_simulator.report(report.ncmec_report_id)
    xml = full["xml"]
    assert full["incident_type"] == ENTICEMENT
    assert "https://platform.example/p/42" in xml
    assert "Rex Reported" in xml and "rex@platform.example" in xml and "u-42" in xml
    assert c.reported_at.strftime("%Y-%m-%dT%H:%M:%S") in xml
    assert "Rita" in xml and "Reporter" in xml and "rita@example.org" in xml
    assert [f["file_viewed_by_esp"] for f in full["files"]] == [True, False]
    assert [f["md5"] for f in full["files"]] == [m.md5 for m in c.media]
    assert xml == report.report_xml
    assert "<industryClassification>B1</industryClassification>" in report.files[0].fileinfo_xml


def test_what_is_sent_is_frozen_when_the_report_is_created(ctx, fast, client, auth, ncmec_simulator):
    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    submit(auth, c.id)  # nobody revealed anything yet

    # Later edits: the user's details, the rule's contact, the policy's incident type, a late reveal.
    user = c.reported_user
    user.name, user.email = "Changed Name", "changed@platform.example"
    rule = db.session.get(ReportingRule, rule.id)
    rule.contact_first_name, rule.contact_email = "Other", "other@example.org"
    db.session.get(Policy, policies["csam"].id).ncmec_incident_type = ENTICEMENT
    db.session.commit()
    cases.reveal(c.media[1].id, c.id, mod)
    run_jobs(ctx)

    [report] = reports()
    full = ncmec_simulator.report(report.ncmec_report_id)
    assert full["incident_type"] == CSAM
    assert "Rex Reported" in full["xml"] and "rex@platform.example" in full["xml"]
    assert "Changed Name" not in full["xml"] and "other@example.org" not in full["xml"]
    assert "rita@example.org" in full["xml"]
    assert [f["file_viewed_by_esp"] for f in full["files"]] == [False, False]


def test_two_moderators_submitting_at_once_file_one_report(app, ncmec_simulator):
    with app.test_request_context():  # decide() builds the dialog's URL
        policies, rule, _mod, c = csam_case(ncmec_simulator)
        other = factories.user("moderator", email="other@example.org")
        case_id, emails = c.id, ["mod@example.org", other.email]
        cases.decide(case_id, "violation", policies["csam"].id, _mod)
        tasks.task_queue().empty()
    barrier = threading.Barrier(2)
    results: list[str] = []

    def moderator(email: str) -> None:
        with app.app_context():
            client = app.test_client()
            from tests.conftest import AuthActions

            AuthActions(client).login(email)
            token = csrf_from(client.get(f"/cases/{case_id}/ncmec-report").text)
            db.session.rollback()  # no transaction held while waiting: on SQLite it holds the write lock
            barrier.wait()
            response = client.post(
                f"/cases/{case_id}/ncmec-report",
                data={"incident_type": CSAM, "csrf_token": token},
                headers={"HX-Request": "true"},
            )
            results.append(
                "already" if "Already reported" in response.text else response.headers.get("HX-Trigger", "?")
            )

    threads = [threading.Thread(target=moderator, args=(e,)) for e in emails]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already", "close-dialog"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ExternalReport)) == 1
        assert len(tasks.task_queue().jobs) == 1


def test_the_dialog_shows_the_exact_xml_and_refuses_what_ncmec_would_refuse(
    ctx, fast, client, auth, ncmec_simulator
):
    from console.cases.models import ReportedUser

    policies, rule, mod, c = csam_case(ncmec_simulator)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    html = client.get(f"/cases/{c.id}/ncmec-report", headers={"HX-Request": "true"}).text
    assert "exactly as it will be sent (XML)" in html
    assert "&lt;displayName&gt;Rex Reported&lt;/displayName&gt;" in html  # the document itself, escaped
    assert "NCMEC would refuse" not in html

    # Data from before the entry checks existed: a name longer than NCMEC accepts.
    user = db.session.scalar(db.select(ReportedUser).where(ReportedUser.platform_id == "u-42"))
    user.name = "R" * 101
    db.session.commit()
    html = client.get(f"/cases/{c.id}/ncmec-report", headers={"HX-Request": "true"}).text
    assert "NCMEC would refuse this report" in html
    assert "Reported user › display name</strong>: is longer than 100 characters (101)" in html
    assert 'class="danger" disabled>Submit report' in html

    refused = submit(auth, c.id, htmx=False)
    assert refused.status_code == 422
    assert "Reported user › display name: is longer than 100 characters" in refused.text
    assert reports() == []
    assert ncmec_simulator.stats()["calls"] == {}
