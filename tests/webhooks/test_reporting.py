"""The platform and the CyberTip: the account status it acknowledged, what it knows (enrichment) before the
document is frozen, and the preservation request after the finish. NCMEC is the simulator, the platform a
receiver that verifies every signature with `standardwebhooks`."""

from __future__ import annotations

import json
from datetime import timedelta

from lxml import etree
from sqlalchemy import select

from console.cases import service as cases
from console.evidence.models import EvidenceRecord
from console.extensions import db
from console.reporting import pipeline
from console.reporting import service as reporting
from console.reporting.models import ExternalReport
from console.reporting.rules import rule_for_case
from console.webhooks import delivery
from console.webhooks.models import WebhookEvent
from tests import factories
from tests.factories import CSAM
from tests.reporting.helpers import run_follow_ups
from tests.webhooks.receiver import Answer

SHA = "a" * 64


def _confirmed(setup, *, ai: bool = False, images: int = 0):
    moderator = factories.user()
    policy = setup["policies"]["csam"]
    queue = setup["review"] if ai else factories.queue()
    case = factories.case(queue, policy=policy, ai_policy=policy if ai else None, images=images)
    cases.decide(case.id, "violation", policy.id, moderator)
    return db.session.get(type(case), case.id), moderator


def _deliver_all(case_id: int) -> None:
    ids = db.session.scalars(
        select(WebhookEvent.id).where(WebhookEvent.case_id == case_id, WebhookEvent.state == "pending")
    ).all()
    for event_id in ids:
        assert delivery.deliver(event_id) == "delivered"


def _file(case, moderator) -> ExternalReport:
    report, created = reporting.file_report(case, rule_for_case(case), CSAM, actor=moderator)
    assert created
    return report


def _sent_xml(simulator, report_id: int) -> etree._Element:
    report = db.session.get(ExternalReport, report_id)
    return etree.fromstring(simulator.report(report.ncmec_report_id)["xml"].encode())


def _bound_passed(report_id: int) -> None:
    """The report was made longer ago than PLATFORM_WAIT_SECONDS (a minute in these tests), and is due."""
    report = db.session.get(ExternalReport, report_id)
    report.created_at = report.created_at - timedelta(seconds=61)
    report.next_attempt_at = None
    db.session.commit()


def _due_now(report_id: int) -> None:
    db.session.get(ExternalReport, report_id).next_attempt_at = None
    db.session.commit()


def test_the_cybertip_says_the_account_was_disabled_when_the_platform_acknowledged_it(
    filing_platform, ncmec_simulator, client, auth
):
    case, moderator = _confirmed(filing_platform)
    _deliver_all(case.id)  # the platform answered 200 to "account.disable"
    auth.login(moderator.email)
    dialog = client.get(f"/cases/{case.id}/ncmec-report").text
    assert "accountPermanentlyDisabled" in dialog  # the dialog's preview shows what will be sent
    report = _file(case, moderator)
    assert pipeline.drive(report.id) == "finished"
    status = _sent_xml(ncmec_simulator, report.id).find("personOrUserReported/accountPermanentlyDisabled")
    assert status.text == "true" and status.get("disabledDate", "").endswith("Z")


def test_the_worker_waits_for_an_account_action_then_files_with_it(filing_platform, ncmec_simulator):
    case, _ = _confirmed(filing_platform, ai=True)  # the AI review queue: filed automatically
    report = db.session.scalar(select(ExternalReport).where(ExternalReport.case_id == case.id))
    assert pipeline.drive(report.id) == "queued"  # account.disable not acknowledged yet: not frozen
    report = db.session.get(ExternalReport, report.id)
    assert report.attempts == 0 and report.ncmec_report_id is None and "account.disable" in report.last_error
    assert ncmec_simulator.reports() == []
    _deliver_all(case.id)
    _due_now(report.id)
    assert pipeline.drive(report.id) == "finished"
    assert (
        _sent_xml(ncmec_simulator, report.id).find("personOrUserReported/accountPermanentlyDisabled")
        is not None
    )


def test_a_platform_that_never_answers_is_waited_for_a_bounded_time(
    filing_platform, ncmec_simulator, receiver, ctx, client, auth
):
    ctx.config.update(
        {"PLATFORM_WAIT_SECONDS": 60, "PLATFORM_RETRY_SECONDS": 0.2, "WEBHOOK_TIMEOUT_SECONDS": 0.3}
    )
    rule = filing_platform["rule"]
    rule.enrichment_endpoint_id = filing_platform["endpoint"].id
    db.session.commit()
    receiver.enrichment = [Answer(200, delay=1.0)] * 10  # slower than the timeout, every time
    case, _ = _confirmed(filing_platform, ai=True)
    report = db.session.scalar(select(ExternalReport).where(ExternalReport.case_id == case.id))
    assert pipeline.drive(report.id) == "queued"
    assert "did not answer" in db.session.get(ExternalReport, report.id).last_error
    _bound_passed(report.id)
    assert pipeline.drive(report.id) == "finished"  # filed with what we have
    report = db.session.get(ExternalReport, report.id)
    notes = " ".join(report.payload["platform"]["notes"])
    assert "Filed without waiting longer than" in notes and "did not answer" in notes
    auth.login(filing_platform["admin"].email)
    assert "Filed without waiting longer than" in client.get(f"/reports/{report.id}").text
    sent = _sent_xml(ncmec_simulator, report.id)
    assert sent.find("personOrUserReported/accountPermanentlyDisabled") is None  # never acknowledged


ENRICHMENT = {
    "account": {
        "emails": ["second@platform.example"],
        "phones": ["+1 555 0100"],
        "created_at": "2024-02-03T04:05:06Z",
        "ip_events": [{"ip": "203.0.113.9", "at": "2026-11-20T07:00:00Z", "event": "login"}],
        "device_ids": [{"type": "IMEI", "value": "356938035643809", "at": "2026-11-20T07:00:00Z"}],
        "associated_accounts": [{"type": "Linked", "platform": "Other app", "platform_id": "o-1"}],
        "estimated_location": {"city": "Lyon", "country_code": "FR", "verified": False},
    },
}


def test_the_platforms_answer_is_in_the_cybertip_and_its_file_details(
    filing_platform, ncmec_simulator, receiver
):
    rule = filing_platform["rule"]
    rule.enrichment_endpoint_id = filing_platform["endpoint"].id
    db.session.commit()
    case, moderator = _confirmed(filing_platform, images=1)
    _deliver_all(case.id)
    sha = case.media[0].sha256
    answer = {
        **ENRICHMENT,
        "files": [{"sha256": sha, "uploaded_at": "2026-11-20T07:30:00Z", "upload_ip": {"ip": "203.0.113.9"}}],
    }
    receiver.enrichment = [Answer(200, body=json.dumps(answer))]
    report = _file(case, moderator)
    assert pipeline.drive(report.id) == "finished"
    asked = [r for r in receiver.received if r.event["type"] == "enrichment.request"]
    assert len(asked) == 1 and asked[0].verified_with == [0]
    assert asked[0].event["data"]["account"]["platform_id"] == case.reported_user.platform_id
    user = _sent_xml(ncmec_simulator, report.id).find("personOrUserReported")
    assert [e.text for e in user.findall("personOrUserReportedPerson/email")] == [
        case.reported_user.email,
        "second@platform.example",
    ]
    assert user.find("personOrUserReportedPerson/phone").text == "+1 555 0100"
    assert user.find("deviceId/idValue").text == "356938035643809"
    assert user.find("estimatedLocation/city").text == "Lyon"
    assert user.find("associatedAccount").get("type") == "Linked"
    assert "203.0.113.9" in [e.text for e in user.findall("ipCaptureEvent/ipAddress")]
    assert "2024-02-03" in user.find("additionalInfo").text
    details = ncmec_simulator.report(db.session.get(ExternalReport, report.id).ncmec_report_id)["files"][0]
    file_xml = etree.fromstring(details["details_xml"].encode())
    assert file_xml.find("uploadedToEspTimestamp").text == "2026-11-20T07:30:00Z"
    assert file_xml.find("ipCaptureEvent/ipAddress").text == "203.0.113.9"


def test_a_bad_answer_is_refused_naming_the_field_and_nothing_of_it_is_sent(
    filing_platform, ncmec_simulator, receiver, ctx
):
    ctx.config.update({"PLATFORM_WAIT_SECONDS": 60, "PLATFORM_RETRY_SECONDS": 0.2})
    rule = filing_platform["rule"]
    rule.enrichment_endpoint_id = filing_platform["endpoint"].id
    db.session.commit()
    bad = {"account": {"emails": ["leak@platform.example", "not-an-email"], "created_at": "yesterday"}}
    receiver.enrichment = [Answer(200, body=json.dumps(bad))] * 10
    case, moderator = _confirmed(filing_platform)
    _deliver_all(case.id)
    report = _file(case, moderator)
    assert pipeline.drive(report.id) == "queued"
    error = db.session.get(ExternalReport, report.id).last_error
    assert "account.emails[1]: is not an email address" in error and "account.created_at" in error
    assert ncmec_simulator.reports() == []  # nothing sent while the answer is refused
    _bound_passed(report.id)
    assert pipeline.drive(report.id) == "finished"
    report = db.session.get(ExternalReport, report.id)
    assert "leak@platform.example" not in report.report_xml  # nothing of the refused answer
    assert "account.emails[1]" in " ".join(report.payload["platform"]["notes"])


def test_a_finished_report_asks_the_platform_to_preserve_the_account(
    filing_platform, ncmec_simulator, receiver, client, auth
):
    rule = filing_platform["rule"]
    rule.preservation_endpoint_id = filing_platform["endpoint"].id
    db.session.commit()
    case, moderator = _confirmed(filing_platform)
    _deliver_all(case.id)
    report = _file(case, moderator)
    assert pipeline.drive(report.id) == "finished"
    run_follow_ups()  # the jobs the finish set going
    report = db.session.get(ExternalReport, report.id)
    event = db.session.scalar(
        select(WebhookEvent).where(
            WebhookEvent.report_id == report.id, WebhookEvent.type == "preservation.request"
        )
    )
    assert event is not None and event.state == "pending"  # written by the finish's follow-up job
    assert delivery.deliver(event.id) == "delivered"
    got = [r for r in receiver.received if r.id == event.message_id][0]
    assert got.verified_with == [0]
    data = got.event["data"]
    assert data["cybertip_id"] == report.ncmec_report_id
    assert data["account"]["platform_id"] == case.reported_user.platform_id
    record = db.session.scalar(select(EvidenceRecord).where(EvidenceRecord.report_id == report.id))
    assert data["preserve_until"] == record.preserve_until.isoformat()
    assert record.preserve_until - report.finished_at >= timedelta(days=365)
    assert record.platform_preservation_at is not None
    assert record.platform_preservation["message_id"] == event.message_id
    auth.login(filing_platform["admin"].email)
    page = client.get(f"/evidence/reports/{report.id}").text
    assert "acknowledged" in page and event.message_id in page
