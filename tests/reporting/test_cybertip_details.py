"""Fuller CyberTips: a chat's thread, escalation, annotations, per-file classification, earlier CyberTips,
the company's legal details — each shown in the dialog's exact preview, sent, and validated by the simulator
against NCMEC's XSD (it refuses any document the schema refuses)."""

from __future__ import annotations

import re
from html import unescape

from lxml import etree

from console.cases import kinds
from console.extensions import db
from console.hashbank.models import MediaHash
from console.ncmec import IncidentType
from console.reporting import filing
from console.reporting.models import ReportingRule
from console.settings import cybertip_details
from tests import factories
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_dialog import confirm, reports, run_jobs, submit

ENTICEMENT = IncidentType.ONLINE_ENTICEMENT.value
CSAM = IncidentType.CHILD_PORNOGRAPHY.value
PDQ = "f" * 16 + "0" * 48


def moderator():
    return factories.user("moderator", email="mod@example.org", name="Mo Moderator")


def dialog(client, case_id: int) -> str:
    return client.get(f"/cases/{case_id}/ncmec-report", headers={"HX-Request": "true"}).text


def preview_xml(html: str) -> str:
    """The report document exactly as the dialog shows it."""
    block = html.split('id="ncmec-report-xml"')[1].split("<pre>")[1].split("</pre>")[0]
    return unescape(block)


def sent(simulator, report) -> tuple[dict, etree._Element]:
    full = simulator.report(report.ncmec_report_id)
    assert full["state"] == "finished"
    return full, etree.fromstring(full["xml"].encode())


def chat_case(q, **kw):
    """A grooming conversation in direct messages, reported without any file."""
    c = factories.case(
        q,
        text="",
        content_id="dm-thread-9",
        content_url="https://platform.example/messages/acct-77",
        reported_user={"platform_id": "acct-77", "name": "Adult Account", "email": "adult@platform.example"},
        **kw,
    )
    c.content_kind = "chat"
    c.incident_details = {"chat_service": "Platform DMs", "chat_room": "dm:acct-77/kid-12"}
    c.thread = [
        {
            "sender": "acct-77",
            "recipient": "kid-12",
            "sent_at": "2024-05-01T11:58:00+00:00",
            "text": "how old r u?",
        },
        {"sender": "kid-12", "recipient": "acct-77", "sent_at": "2024-05-01T11:59:00+00:00", "text": "13"},
        {
            "sender": "acct-77",
            "recipient": "kid-12",
            "sent_at": "2024-05-01T12:00:00+00:00",
            "text": "=cmd|' /C calc'!A0\nlet's meet, don't tell your mum",
            "attachments": [],
        },
    ]
    c.intended_recipient = {"platform_id": "kid-12", "screen_name": "kiddo12", "age": 13}
    c.victim = {"platform_id": "kid-12", "first_name": "Kim", "age": 13, "date_of_birth": "2011-02-03"}
    db.session.commit()
    return c


def test_a_chat_enticement_without_media_is_filed_with_its_thread(ctx, fast, client, auth, ncmec_simulator):
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    moderator()
    c = chat_case(factories.queue("User reports", "user_report"))
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["grooming"].id)

    html = dialog(client, c.id)
    assert "NCMEC would refuse" not in html and 'class="danger" disabled' not in html
    assert "Chat or direct message" in html and "chat service: Platform DMs" in html
    assert f"case-{c.id}-message-thread.txt" in html and "Supplemental Reported" in html
    assert "3 messages, in the report and as the attached transcript" in html
    assert 'id="ncmec-recipient">kiddo12' in html and "age 13" in html
    assert 'id="ncmec-victim">Kim · age 13 · born 2011-02-03' in html
    shown = preview_xml(html)
    assert "<chatImIncident>" in shown and "<webPageIncident>" not in shown

    submit(auth, c.id, ENTICEMENT)
    run_jobs(ctx)
    [report] = reports()
    full, root = sent(ncmec_simulator, report)
    assert full["incident_type"] == ENTICEMENT
    assert full["internet_detail_types"] == ["chatImIncident"]
    [chat] = full["chat"]
    assert chat["chat_client"] == "Platform DMs" and chat["chat_room_name"] == "dm:acct-77/kid-12"
    assert "2024-05-01T11:59:00+00:00 kid-12 → acct-77: 13" in chat["content"]
    assert "Content URL: https://platform.example/messages/acct-77" in chat["additional_info"]
    [recipient] = full["intended_recipients"]
    assert root.findtext("intendedRecipient/espIdentifier") == "kid-12"
    assert root.findtext("intendedRecipient/intendedRecipientPerson/age") == "13"
    assert recipient
    assert root.findtext("victim/victimPerson/firstName") == "Kim"
    assert root.findtext("victim/victimPerson/dateOfBirth") == "2011-02-03"
    # The thread as a file: Supplemental Reported, never classified, not "viewed" (the console wrote it).
    [transcript] = full["files"]
    assert transcript["file_relevance"] == "Supplemental Reported"
    assert transcript["industry_classification"] is None and transcript["file_viewed_by_esp"] is False
    assert transcript["md5"] == report.files[0].md5 and report.files[0].media_id is None
    from console.media import storage

    text = storage.path_for(report.files[0]).read_text()
    assert "    | =cmd|' /C calc'!A0" in text  # kept as sent, indented: no line of it starts a message
    assert "[3] 2024-05-01T12:00:00+00:00 acct-77 → kid-12" in text
    # The one report for this thread: named by the thread's content id, not the conversation's URL.
    assert report.fingerprint == filing._content_key("dm-thread-9")
    assert report.report_xml == shown
    assert ncmec_simulator.refusals() == []


def test_an_escalated_report_with_annotations_and_classified_files(ctx, fast, client, auth, ncmec_simulator):
    policies, _review, rule = reporting_setup(ncmec_simulator)
    rule = db.session.get(ReportingRule, rule.id)
    rule.escalation_policies = [policies["csam"]]
    rule.escalation_reason = "Imminent danger: the child's location is in the post."
    cybertip_details.set_policy_annotations(policies["csam"].id, ["csamSolicitation"])
    mod = moderator()
    c = factories.case(factories.queue(), images=2, content_url="https://platform.example/p/42")
    first, second = c.media
    db.session.add(MediaHash(media_id=first.id, algorithm="pdq", value=PDQ, computed_by="detector"))
    db.session.add(
        MediaHash(media_id=first.id, algorithm="photodna", value="PDNA-1:abc", computed_by="detector")
    )
    db.session.commit()
    from console.cases import service as cases

    cases.reveal(first.id, c.id, mod)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)

    html = dialog(client, c.id)
    # Preselected: the rule asks for escalation (with its reason), the policy for its annotation.
    assert re.search(r'<input[^>]*checked[^>]*id="escalate"|<input[^>]*id="escalate"[^>]*checked', html)
    assert "The rule asks for it for this case." in html
    assert "Imminent danger: the child&#39;s location is in the post." in html
    assert re.search(r'value="csamSolicitation" id="annotation-csamSolicitation" checked', html)
    assert "<escalateToHighPriority>Imminent danger" in unescape(html)

    response = submit(
        auth,
        c.id,
        CSAM,
        escalate="y",
        escalation_reason="Live abuse: the uploader says it happens tonight.",
        report_annotations=["sextortion", "csamSolicitation"],
        **{
            f"classification_{first.id}": "A1",
            f"file_annotations_{first.id}": ["generativeAi", "viral"],
            f"classification_{second.id}": "B2",
        },
    )
    assert response.headers.get("HX-Trigger") == "close-dialog", response.text
    run_jobs(ctx)
    [report] = reports()
    assert report.escalate is True
    full, root = sent(ncmec_simulator, report)
    assert full["escalate_to_high_priority"] == "Live abuse: the uploader says it happens tonight."
    assert full["report_annotations"] == ["sextortion", "csamSolicitation"]
    one, two = full["files"]
    assert one["industry_classification"] == "A1" and two["industry_classification"] == "B2"
    assert one["file_annotations"] == ["viral", "generativeAi"] and two["file_annotations"] == []
    assert one["file_relevance"] == "Reported" and one["file_viewed_by_esp"] is True
    assert one["original_file_hashes"] == {
        "SHA256": first.sha256,
        "MD5": first.md5,
        "PDQ": PDQ,
        "PhotoDNA": "PDNA-1:abc",
    }
    assert two["original_file_hashes"] == {"SHA256": second.sha256, "MD5": second.md5}
    assert ncmec_simulator.refusals() == []


def test_an_escalation_needs_its_reason(ctx, client, auth, ncmec_simulator):
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    moderator()
    c = factories.case(factories.queue(), images=1)
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    refused = submit(auth, c.id, CSAM, escalate="y", escalation_reason="  ")
    assert "Say why the report is urgent" in refused.text
    refused = submit(auth, c.id, CSAM, escalate="y", escalation_reason="x" * 3001)
    assert "at most 3000 characters" in refused.text
    assert reports() == []


def test_a_follow_up_report_names_the_users_earlier_cybertip(ctx, fast, client, auth, ncmec_simulator):
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    moderator()
    q = factories.queue()
    user = {"platform_id": "u-9", "name": "Repeat Uploader", "email": "repeat@platform.example"}
    first = factories.case(q, images=1, reported_user=user, content_url="https://platform.example/p/1")
    auth.login("mod@example.org")
    confirm(auth, first.id, policies["csam"].id)
    assert "reported before" not in dialog(client, first.id)
    submit(auth, first.id)
    run_jobs(ctx)
    [earlier] = reports()
    assert earlier.state == "finished"

    # New content from the same user: a new report (one per content), naming the earlier CyberTip.
    second = factories.case(q, images=1, reported_user=user, content_url="https://platform.example/p/2")
    confirm(auth, second.id, policies["csam"].id)
    html = dialog(client, second.id)
    assert "Already reported" not in html
    assert f"This user was reported before:</strong>\n      #{earlier.ncmec_report_id} (" in html
    assert f"<priorCTReports>{earlier.ncmec_report_id}</priorCTReports>" in unescape(html)
    submit(auth, second.id)
    run_jobs(ctx)
    _first, follow_up = reports()
    full, _root = sent(ncmec_simulator, follow_up)
    assert full["reported_users"][0]["prior_ct_reports"] == [earlier.ncmec_report_id]
    assert follow_up.payload["prior_ct_reports"] == [earlier.ncmec_report_id]
    assert len(ncmec_simulator.reports("finished")) == 2


def test_the_reporter_carries_the_companys_legal_details_on_a_web_page_incident(
    ctx, fast, client, auth, ncmec_simulator
):
    policies, _review, rule = reporting_setup(ncmec_simulator)
    from console.reporting import agencies

    cybertip_details.save_reporter_details(
        agencies.ncmec().id,
        cybertip_details.ReporterDetails(
            company_template="Example Platform, Inc.\n1 Main St, Springfield\nlegal@example.com",
            terms_of_service="3.2 No content that sexualises minors.",
            legal_url="https://example.com/legal/law-enforcement",
            le_contact_first_name="Lee",
            le_contact_last_name="Enforcement-Desk",
            le_contact_email="le-requests@example.com",
            le_contact_phone="+1 555 0100",
        ),
    )
    db.session.get(ReportingRule, rule.id).contact_phone = "+1 555 0199"
    db.session.commit()
    moderator()
    c = factories.case(factories.queue(), images=1, content_url="https://platform.example/p/77")
    c.content_kind = "web_page"
    c.incident_details = {"additional_info": "A public forum thread."}
    db.session.commit()
    assert kinds.kind_for(c) == "web_page"
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    html = dialog(client, c.id)
    assert "Example Platform, Inc." in html and "https://example.com/legal/law-enforcement" in html
    assert "Lee Enforcement-Desk · le-requests@example.com · +1 555 0100" in html
    assert "Rita Reporter · rita@example.org · +1 555 0199" in html
    shown = preview_xml(html)

    submit(auth, c.id)
    run_jobs(ctx)
    [report] = reports()
    full, root = sent(ncmec_simulator, report)
    assert report.report_xml == shown  # the dialog's preview is what was sent
    reporter = full["reporter"]
    assert reporter["company_template"].startswith("Example Platform, Inc.\n1 Main St")
    assert reporter["terms_of_service"] == "3.2 No content that sexualises minors."
    assert reporter["legal_url"] == "https://example.com/legal/law-enforcement"
    assert reporter["phones"] == ["+1 555 0199"]
    contact = root.find("reporter/contactPerson")
    assert contact.findtext("lastName") == "Enforcement-Desk" and contact.findtext("phone") == "+1 555 0100"
    assert full["internet_detail_types"] == ["webPageIncident"] and full["urls"] == [
        "https://platform.example/p/77"
    ]
    assert root.findtext("internetDetails/webPageIncident/additionalInfo") == "A public forum thread."
    assert ncmec_simulator.refusals() == []


def test_the_automatic_flow_escalates_confident_ai_cases_with_the_rules_reason(
    ctx, fast, ncmec_simulator, app
):
    policies, review, rule = reporting_setup(ncmec_simulator)
    rule = db.session.get(ReportingRule, rule.id)
    rule.escalate_min_confidence = 0.95
    rule.escalation_reason = "AI detection at high confidence of new material."
    cybertip_details.set_policy_annotations(policies["child-safety"].id, ["sadisticOnlineExploitation"])
    db.session.commit()
    mod = moderator()
    confident = factories.case(review, images=1, ai_policy=policies["csam"])  # 0.97
    unsure = factories.case(review, images=1, ai_policy=policies["csam"])
    unsure.ai_confidence = 0.5
    db.session.commit()
    from console.cases import service as cases

    with app.test_request_context():
        cases.decide(confident.id, "violation", policies["csam"].id, mod)
        cases.decide(unsure.id, "violation", policies["csam"].id, mod)
    run_jobs(ctx)
    escalated, plain = reports()
    assert escalated.triggered_by == "ai" and escalated.escalate and not plain.escalate
    full, _root = sent(ncmec_simulator, escalated)
    assert full["escalate_to_high_priority"] == "AI detection at high confidence of new material."
    # Inherited from the parent policy.
    assert full["report_annotations"] == ["sadisticOnlineExploitation"]
    assert sent(ncmec_simulator, plain)[0]["escalate_to_high_priority"] is None


def test_the_preview_follows_the_choices(ctx, client, auth, ncmec_simulator):
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    moderator()
    c = factories.case(factories.queue(), images=1)
    [m] = c.media
    auth.login("mod@example.org")
    confirm(auth, c.id, policies["csam"].id)
    fragment = client.get(
        f"/cases/{c.id}/ncmec-report/preview",
        query_string={
            "incident_type": CSAM,
            "escalate": "y",
            "escalation_reason": "Now.",
            "report_annotations": "spam",
            f"classification_{m.id}": "B1",
            f"file_annotations_{m.id}": "infant",
        },
        headers={"HX-Request": "true"},
    ).text
    xml = unescape(fragment)
    assert "<escalateToHighPriority>Now.</escalateToHighPriority>" in xml
    assert "<reportAnnotations><spam/></reportAnnotations>" in xml
    assert "<fileAnnotations><infant/></fileAnnotations><industryClassification>B1" in xml
    assert "NCMEC would refuse" not in fragment and reports() == []


def test_two_threads_of_one_conversation_are_two_reports(ctx, fast, ncmec_simulator):
    _policies, _review, rule = reporting_setup(ncmec_simulator)
    q = factories.queue()
    a = chat_case(q)
    b = factories.case(q, text="", content_id="dm-thread-10", content_url=a.content_url)
    b.thread = [
        {"sender": "acct-77", "recipient": "kid-13", "sent_at": "2024-05-02T10:00:00+00:00", "text": "hi"}
    ]
    db.session.commit()
    assert filing.content_item(a) != filing.content_item(b)
    filing.create_report(a, rule, ENTICEMENT, triggered_by="human")
    db.session.commit()
    assert filing.existing_report_for(b, rule.agency_id) is None


def test_a_law_enforcement_request_is_filed_with_everything_the_platform_knows(
    ctx, fast, client, auth, ncmec_simulator
):
    """Ingested through the API (the user's person, devices, location, accounts; the request; each file's
    upload), shown on the case page and in the dialog, sent, and received valid by NCMEC's XSD."""
    from console.api import tokens
    from tests.api.test_ingestion import body
    from tests.api.test_platform_details import FILE_DETAILS, LAW_ENFORCEMENT, USER_DETAILS, full_body

    policies, _review, _rule = reporting_setup(ncmec_simulator)
    moderator()
    lea = factories.queue("Law-enforcement requests", "lea_request")
    _token, raw = tokens.create_token("platform")
    import io
    import json

    posted = client.post(
        "/api/v1/cases",
        data={
            "case": json.dumps(full_body(queue=lea.slug)),
            "media": [(io.BytesIO(factories.png_bytes(7)), "upload.png", "image/png")],
        },
        headers={"Authorization": f"Bearer {raw}"},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 201, posted.json
    case_id = posted.json["case_id"]
    auth.login("mod@example.org")
    page = client.get(f"/cases/{case_id}").text
    assert "Springfield Police Department" in page and "SPD-2024-0042" in page
    assert "IMEI" in page and "490154203237518" in page and "trade-group-42" in page
    assert "a1b2c3.jpg" in page and "ExampleCam" in page
    assert "The upload time, from the platform&#39;s storage log." in page
    confirm(auth, case_id, policies["csam"].id)

    html = dialog(client, case_id)
    assert "NCMEC would refuse" not in html
    assert 'id="ncmec-law-enforcement">Springfield Police Department · case SPD-2024-0042' in html
    assert "Olive Officer · o.officer@spd.example.gov · +1 555 0111" in html
    assert 'id="ncmec-user-details"' in html and "Springfield, Illinois, US" in html
    shown = unescape(preview_xml(html))
    assert "<lawEnforcement><agencyName>Springfield Police Department</agencyName>" in shown
    assert "<incidentDateTimeDescription>The upload time" in shown
    file_xml = unescape(html.split('class="ncmec-file-xml"')[1].split("<pre>")[1].split("</pre>")[0])
    assert "<locationOfFile>https://cdn.platform.example/f/a1b2c3.jpg</locationOfFile>" in file_xml

    submit(auth, case_id)
    run_jobs(ctx)
    [report] = reports()
    full, root = sent(ncmec_simulator, report)
    assert report.report_xml == preview_xml(html)  # the dialog showed what was sent
    le = full["law_enforcement"]
    assert le["agency_name"] == LAW_ENFORCEMENT["agency_name"] and le["case_number"] == "SPD-2024-0042"
    assert le["officer_contact"]["emails"] == ["o.officer@spd.example.gov"]
    assert le["officer_contact"]["phones"] == ["+1 555 0111"] and le["served_legal_process_domestic"] is True
    assert full["incident_date_time_description"].startswith("The upload time")
    [user] = full["reported_users"]
    assert (user["first_name"], user["last_name"], user["age"]) == ("Sam", "Example", 34)
    assert user["date_of_birth"] == "1990-04-02" and user["phones"] == USER_DETAILS["phones"]
    assert user["emails"] == ["sam@platform.example", "sam.other@mail.example"]
    assert user["addresses"][0]["state"] == "IL" and user["addresses"][0]["type"] == "Home"
    assert user["addresses"][1]["country"] == "DE"
    assert [(d["id_type"], d["event_name"]) for d in user["device_ids"]] == [
        ("IMEI", "Login"),
        ("IDFA", None),
    ]
    assert user["estimated_location"] == {
        "city": "Springfield",
        "region": "Illinois",
        "country_code": "US",
        "verified": False,
        "timestamp": "2024-05-01T11:00:00Z",
    }
    linked, billing = user["associated_accounts"]
    assert (
        linked["type"] == "Linked"
        and linked["third_party_user"] is True
        and linked["screen_name"] == "sam_alt"
    )
    assert billing["esp_identifier"] == "acct-77-billing" and billing["emails"] == ["billing@mail.example"]
    assert user["group_identifier"] == "trade-group-42" and user["third_party_user_reported"] is False
    assert user["all_emails_reported"] is True
    assert user["account_temporarily_disabled"] is None  # the platform's action: the actions issue's part
    [f] = full["files"]
    assert f["file_name"] == FILE_DETAILS["file_name"] and f["publicly_available"] is True
    assert f["uploaded_to_esp_timestamp"] == "2024-05-01T11:30:00Z"
    assert f["location_of_file"] == FILE_DETAILS["location"]
    assert f["ip_event"] == {
        "ip_address": "203.0.113.50",
        "event_name": "Upload",
        "date_time": "2024-05-01T11:30:00Z",
        "possible_proxy": None,
        "port": 51515,
    }
    assert f["device_ids"][0]["id_value"] == "490154203237518"
    assert f["file_details"] == [
        {"type": "EXIF", "name": "Make", "value": "ExampleCam"},
        {"type": "EXIF", "name": "DateTimeOriginal", "value": "2024:04:30 22:00:00"},
        {"type": "HASH", "name": "platform-hash", "value": "ph-0042"},
    ]
    assert ncmec_simulator.refusals() == []
    assert body()  # the plain request stays valid without any of it (the other tests)


def test_a_moderator_enters_the_law_enforcement_request_on_the_case(ctx, fast, client, auth, ncmec_simulator):
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    moderator()
    lea = factories.queue("Law-enforcement requests", "lea_request")
    c = factories.case(lea, images=1, content_url="https://platform.example/p/le-1")
    plain = factories.case(factories.queue(), images=1)
    auth.login("mod@example.org")
    assert 'id="law-enforcement"' in client.get(f"/cases/{c.id}").text
    assert 'id="law-enforcement"' not in client.get(f"/cases/{plain.id}").text

    refused = auth.post(
        f"/cases/{c.id}/law-enforcement",
        {"agency_name": " ", "officer_email": "not-an-email"},
        token_from=f"/cases/{c.id}",
    )
    assert refused.status_code == 422
    assert "Name the law-enforcement agency." in refused.text and "officer&#39;s email" in refused.text
    no_token = client.post(f"/cases/{c.id}/law-enforcement", data={"agency_name": "PD"})
    assert no_token.status_code == 400  # CSRF

    saved = auth.post(
        f"/cases/{c.id}/law-enforcement",
        {
            "agency_name": "County Sheriff",
            "case_number": "CS-77",
            "officer_first_name": "Dana",
            "officer_last_name": "Deputy",
            "officer_email": "dana@sheriff.example.gov",
            "officer_phone": "+1 555 0177",
        },
        token_from=f"/cases/{c.id}",
    )
    assert saved.status_code == 302
    page = client.get(f"/cases/{c.id}").text
    assert "County Sheriff" in page and "CS-77" in page and "Dana Deputy · dana@sheriff.example.gov" in page
    from console.audit import AuditEvent

    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "law_enforcement_recorded"))

    confirm(auth, c.id, policies["csam"].id)
    submit(auth, c.id)
    run_jobs(ctx)
    [report] = reports()
    full, root = sent(ncmec_simulator, report)
    assert full["law_enforcement"]["agency_name"] == "County Sheriff"
    assert root.findtext("lawEnforcement/officerContact/lastName") == "Deputy"
    assert ncmec_simulator.refusals() == []
