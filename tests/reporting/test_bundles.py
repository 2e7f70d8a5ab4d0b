"""One CyberTip per incident: several confirmed contents of one user in one report — chosen by a moderator on
the user's page — each content still in exactly one live report, enforced by the database."""

from __future__ import annotations

import re
from html import unescape

import pytest
from lxml import etree
from sqlalchemy.exc import IntegrityError

from console.cases import service as cases
from console.extensions import db
from console.reporting import filing, pipeline, service
from console.reporting.models import ExternalReport, ReportContent, ReportFile
from tests import factories
from tests.factories import CSAM
from tests.reporting.helpers import reporting_setup
from tests.reporting.test_cybertip_details import chat_case, preview_xml
from tests.reporting.test_dialog import confirm, reports, run_jobs

FAST_CONFIG = {"NCMEC_READ_TIMEOUT": 0.5, "REPORT_LEASE_SECONDS": 30}
USER = {"platform_id": "u-500", "name": "Bundle Uploader", "email": "bundle@platform.example"}


def moderator():
    return factories.user("moderator", email="mod@example.org", name="Mo Moderator")


def user_cases(q, n, *, images=1, user=USER, **kw):
    """n contents of one user, each its own post with its own files."""
    return [
        factories.case(
            q, images=images, content_url=f"https://platform.example/p/b{i}", reported_user=user, **kw
        )
        for i in range(n)
    ]


def confirmed(auth, cs, policy):
    for c in cs:
        assert confirm(auth, c.id, policy.id).status_code == 200


def bundle_dialog(client, user_id, ids):
    return client.get(
        f"/reported-users/{user_id}/ncmec-bundle", query_string={"case": ids}, headers={"HX-Request": "true"}
    )


def submit_bundle(auth, user_id, ids, incident_type=CSAM, **extra):
    query = "&".join(f"case={i}" for i in ids)
    return auth.post(
        f"/reported-users/{user_id}/ncmec-bundle",
        {"case": ids, "incident_type": incident_type, **extra},
        htmx=True,
        token_from=f"/reported-users/{user_id}/ncmec-bundle?{query}",
    )


def test_a_moderator_files_three_contents_as_one_report_from_the_users_page(
    ctx, fast, client, auth, ncmec_simulator
):
    policies, _review, _rule = reporting_setup(ncmec_simulator)
    mod = moderator()
    q = factories.queue()
    a, b, c = user_cases(q, 3, images=2)
    reported = factories.case(
        q, images=1, content_url="https://platform.example/p/reported", reported_user=USER
    )
    undecided = factories.case(q, images=1, reported_user=USER)
    cases.reveal(a.media[0].id, a.id, mod)
    auth.login("mod@example.org")
    confirmed(auth, [a, b, c, reported], policies["csam"])
    service.file_report(reported, _rule, CSAM, actor=mod)  # one of them is in a live report already
    user_id = a.reported_user_id

    page = client.get(f"/reported-users/{user_id}").text
    assert 'id="ncmec-bundle-form"' in page
    for x in (a, b, c):
        assert f'id="bundle-case-{x.id}"' in page and 'form="ncmec-bundle-form"' in page
    assert f'id="bundle-case-{reported.id}"' not in page
    assert re.search(rf'id="ncmec-choice-{reported.id}">\s*<span[^>]*>In NCMEC report #\d+ \(queued\)', page)
    assert f'id="bundle-case-{undecided.id}"' not in page  # not confirmed: nothing to report

    html = bundle_dialog(client, user_id, [c.id, a.id, b.id]).text
    assert "One incident: 3 contents of Bundle Uploader" in html
    assert "NCMEC would refuse" not in html and 'class="danger" disabled' not in html
    shown = unescape(preview_xml(html))
    assert shown.count("<internetDetails>") == 3 and "Content 3 of 3: moderation console case" in shown
    assert all(f"https://platform.example/p/b{i}" in shown for i in range(3))
    assert html.count('class="ncmec-file"') == 6

    response = submit_bundle(auth, user_id, [a.id, b.id, c.id], **{f"classification_{a.media[0].id}": "A1"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/reported-users/{user_id}"
    run_jobs(ctx)
    bundle = next(r for r in reports() if len(r.contents) == 3)
    assert bundle.state == "finished", bundle.last_error
    assert [x.case_id for x in bundle.contents] == [a.id, b.id, c.id]
    assert bundle.report_xml == preview_xml(html)

    # NCMEC holds one report with every file of every content, each described.
    received = ncmec_simulator.report(bundle.ncmec_report_id)
    assert received["state"] == "finished"
    assert sorted(f["md5"] for f in received["files"]) == sorted(m.md5 for x in (a, b, c) for m in x.media)
    assert all(f["details_received"] for f in received["files"])
    assert received["urls"] == [f"https://platform.example/p/b{i}" for i in range(3)]
    first = next(f for f in received["files"] if f["md5"] == a.media[0].md5)
    assert first["industry_classification"] == "A1" and first["file_viewed_by_esp"] is True
    assert (
        any(f"Content 2 of 3: moderation console case #{b.id}" in i for i in first["additional_info"])
        is False
    )
    assert f"Content 1 of 3: moderation console case #{a.id}" in first["additional_info"][0]
    assert ncmec_simulator.refusals() == []

    # Every content's case shows the one report, and none of them asks for another.
    for x in (a, b, c):
        case_page = client.get(f"/cases/{x.id}").text
        assert 'id="ncmec-bundle">3 contents of one user in this report' in case_page
        assert bundle.ncmec_report_id in case_page and "NCMEC report required" not in case_page
    page = client.get(f"/reported-users/{user_id}").text
    assert f"Reported in CyberTip {bundle.ncmec_report_id}" in page and 'id="ncmec-bundle-form"' not in page


def test_a_content_in_a_live_report_cannot_be_added(ctx, fast, client, auth, ncmec_simulator):
    policies, _review, rule = reporting_setup(ncmec_simulator)
    mod = moderator()
    a, b = user_cases(factories.queue(), 2)
    auth.login("mod@example.org")
    confirmed(auth, [a, b], policies["csam"])
    first, _created = service.file_report(a, rule, CSAM, actor=mod)

    html = bundle_dialog(client, a.reported_user_id, [a.id, b.id]).text
    assert 'id="ncmec-taken"' in html and f"case #{a.id} — in report #{first.id}" in html
    assert 'class="danger" disabled' in html
    refused = submit_bundle(auth, a.reported_user_id, [a.id, b.id])
    assert f"the content of case #{a.id} is in report #{first.id} already" in refused.text
    assert [r.id for r in reports()] == [first.id]

    # Not confirmed, or another user's: refused too, nothing filed.
    other = factories.case(factories.queue(), images=1)
    assert bundle_dialog(client, a.reported_user_id, [b.id, other.id]).status_code == 404
    open_case = factories.case(factories.queue(), images=1, reported_user=USER)
    html = bundle_dialog(client, a.reported_user_id, [b.id, open_case.id]).text
    assert f"Only confirmed violations can be reported: case #{open_case.id}." in html
    assert submit_bundle(auth, a.reported_user_id, [b.id, open_case.id]).status_code == 200  # shown in place
    assert len(reports()) == 1


def test_nothing_chosen_says_so(ctx, client, auth, ncmec_simulator):
    reporting_setup(ncmec_simulator)
    moderator()
    [a] = user_cases(factories.queue(), 1)
    auth.login("mod@example.org")
    nothing = client.get(f"/reported-users/{a.reported_user_id}/ncmec-bundle", headers={"HX-Request": "true"})
    assert "Choose the contents to report first" in nothing.text
    assert client.get(f"/reported-users/{a.reported_user_id}/ncmec-bundle").status_code == 302


def test_a_moderator_without_the_child_safety_permission_cannot_bundle(ctx, client, auth, ncmec_simulator):
    policies, _review, rule = reporting_setup(ncmec_simulator)
    factories.user("moderator", email="other@example.org", child_safety=False)
    [a] = user_cases(factories.queue(), 1)
    auth.login("other@example.org")
    assert bundle_dialog(client, a.reported_user_id, [a.id]).status_code == 403
    assert 'id="ncmec-bundle-form"' not in client.get(f"/reported-users/{a.reported_user_id}").text


def test_the_database_refuses_a_content_in_two_live_reports(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    a, b = user_cases(review, 2)
    bundle = filing.create_bundle([a, b], rule, CSAM, triggered_by="human")
    db.session.commit()
    # Even bypassing every Python check, a second live row for b's content is refused.
    clone = ExternalReport(
        agency_id=rule.agency_id,
        case_id=b.id,
        fingerprint="x",
        incident_type=CSAM,
        contact_first_name="a",
        contact_last_name="b",
        contact_email="c@d.e",
        payload={},
        contents=[ReportContent(agency_id=rule.agency_id, case_id=b.id, item=filing.content_item(b))],
    )
    db.session.add(clone)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    # A single report for one of them finds the bundle: one content, one report.
    again, created = filing.create_report(b, rule, CSAM, triggered_by="human")
    assert not created and again.id == bundle.id


def test_two_posts_of_one_item_cannot_be_one_bundles_two_contents(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    a = factories.case(review, images=1, content_url="https://platform.example/p/same", reported_user=USER)
    b = factories.case(review, images=1, content_url="https://platform.example/p/same/", reported_user=USER)
    with pytest.raises(filing.ReportingError, match="are the same content on the platform"):
        filing.create_bundle([a, b], rule, CSAM, triggered_by="human")
    other = factories.case(review, images=1)
    with pytest.raises(filing.ReportingError, match="of one reported user"):
        filing.create_bundle([a, other], rule, CSAM, triggered_by="human")


def test_a_bundle_holds_a_chat_and_a_post_each_in_its_place(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    chat = chat_case(review)
    post = factories.case(
        review,
        images=2,
        content_url="https://platform.example/p/77",
        reported_user={"platform_id": "acct-77"},
    )
    post.victim = {"platform_id": "kid-14", "age": 14}
    db.session.commit()
    report = filing.create_bundle([chat, post], rule, CSAM, triggered_by="human")
    db.session.commit()
    assert pipeline.drive(report.id) == "finished"
    db.session.expire_all()
    report = db.session.get(ExternalReport, report.id)
    received = ncmec_simulator.report(report.ncmec_report_id)
    assert received["internet_detail_types"] == ["chatImIncident", "webPageIncident"]
    assert received["urls"] == ["https://platform.example/p/77"]
    # Both contents' people: the chat's recipient and victim, and the post's victim.
    assert len(received["intended_recipients"]) == 1 and len(received["victims"]) == 2
    files = received["files"]
    assert [f["file_relevance"] for f in files].count("Supplemental Reported") == 1  # the chat's transcript
    assert len(files) == 3 and all(f["details_received"] for f in files)
    transcript = next(f for f in files if f["file_relevance"] == "Supplemental Reported")
    assert transcript["additional_info"][0].startswith(f"Content 1 of 2: moderation console case #{chat.id}")
    root = etree.fromstring(received["xml"].encode())
    assert "one incident, 2 contents of the reported user" in root.findtext("additionalInfo")
    assert ncmec_simulator.refusals() == []


def test_retracting_a_bundle_frees_every_content(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    cs = user_cases(review, 3)
    bundle = filing.create_bundle(cs, rule, CSAM, triggered_by="human")
    db.session.commit()
    service.retract(bundle.id, reason="wrong user")
    db.session.expire_all()
    assert not bundle.live and all(not x.live for x in bundle.contents)
    assert filing.live_reports_for(cs, rule.agency_id) == {}
    again = filing.create_bundle(cs[1:], rule, CSAM, triggered_by="human")
    db.session.commit()
    assert [x.case_id for x in again.contents] == [cs[1].id, cs[2].id]


def test_abandon_and_restart_keeps_every_content_of_the_bundle(ctx, fast, ncmec_simulator):
    """An upload's answer is lost mid-bundle: the open report is abandoned and every content filed anew."""
    _policies, review, rule = reporting_setup(ncmec_simulator)
    cs = user_cases(review, 3, images=2)
    bundle = filing.create_bundle(cs, rule, CSAM, triggered_by="human")
    db.session.commit()
    ncmec_simulator.set_fault("upload", "drop", times=1)  # the second upload's answer is lost
    states = [pipeline.drive(bundle.id) for _ in range(4)]
    assert "finished" in states
    db.session.expire_all()
    bundle = db.session.get(ExternalReport, bundle.id)
    [abandoned] = bundle.payload["retracted_ids"]
    assert ncmec_simulator.report(abandoned)["state"] == "retracted"
    [finished] = ncmec_simulator.reports("finished")
    assert finished["report_id"] == bundle.ncmec_report_id
    assert sorted(f["md5"] for f in finished["files"]) == sorted(m.md5 for c in cs for m in c.media)
    assert all(f["details_received"] for f in finished["files"])
    assert [x.case_id for x in bundle.contents] == [c.id for c in cs]
    assert db.session.query(ReportFile).filter_by(report_id=bundle.id).count() == 6


# --- the document matrix: bundles of 1 to 5 contents of every kind, every section -----------------------

KINDS = [
    ("web_page", {"additional_info": "A public forum thread."}),
    ("chat", {"chat_service": "Platform DMs", "chat_room": "dm:1"}),
    ("email", {"email_addresses": ["a@mail.example"]}),
    ("online_game", {"game_name": "Example Quest", "console": "PC"}),
    ("p2p", {"client": "ExampleTorrent", "file_names": "a.jpg\nb.jpg"}),
    ("phone", {"phone_number": "+1 555 0123"}),
    ("non_internet", {"location_name": "School"}),
]


def rich_contents(review, n, offset=0):
    """n contents of one user who is known in every detail, of kinds in turn, each with files and details."""
    from console.cases import reported_users
    from tests.api.test_platform_details import FILE_DETAILS, LAW_ENFORCEMENT, USER_DETAILS

    out = []
    for i in range(n):
        kind, fields = KINDS[(i + offset) % len(KINDS)]
        c = factories.case(
            review,
            images=1 + i % 2,
            content_id=f"post-{offset}-{i}",
            content_url=f"https://platform.example/p/{offset}-{i}",
            reported_user=USER,
        )
        c.content_kind, c.incident_details = kind, fields
        if kind == "chat":
            c.thread = [
                {"sender": "u-500", "recipient": "kid", "sent_at": "2024-05-01T12:00:00+00:00", "text": "hi"}
            ]
            c.intended_recipient = {"platform_id": "kid", "age": 13}
        if i == 0:
            c.law_enforcement = LAW_ENFORCEMENT
            c.incident_time_description = "From the platform's upload log."
        for m in c.media:
            m.details = {**FILE_DETAILS, "upload_ip": {"ip": "203.0.113.50", "event": "upload"}}
        reported_users.record_user_details(c.reported_user, [{"ip": "198.51.100.7"}], USER_DETAILS)
        db.session.commit()
        out.append(c)
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("offset", [0, 5])
def test_bundles_of_one_to_five_contents_of_every_kind_are_valid(ctx, fast, ncmec_simulator, n, offset):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    cs = rich_contents(review, n, offset)
    preview = filing.preview(cs if n > 1 else cs[0], rule)
    assert preview.problems == [], [str(p) for p in preview.problems]
    root = etree.fromstring(preview.xml.encode())
    assert len(root.findall("internetDetails")) == n
    assert root.findtext("lawEnforcement/agencyName") == "Springfield Police Department"
    assert root.find("personOrUserReported/associatedAccount") is not None
    assert root.findtext("personOrUserReported/groupIdentifier") == "trade-group-42"
    chats = sum(1 for c in cs if c.thread)
    assert len(preview.file_xml) == sum(len(c.media) for c in cs) + chats
    for document in preview.file_xml:
        details = etree.fromstring(document.encode())
        if details.findtext("fileRelevance") == "Reported":
            assert details.findtext("locationOfFile") == "https://cdn.platform.example/f/a1b2c3.jpg"
            assert details.findtext("ipCaptureEvent/eventName") == "Upload"
        if n > 1:
            assert details.findtext("additionalInfo").startswith("Content ")


def test_a_five_content_bundle_with_every_section_is_filed_and_received_valid(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    cs = rich_contents(review, 5, offset=2)
    report = filing.create_bundle(cs, rule, CSAM, triggered_by="human")
    db.session.commit()
    assert pipeline.drive(report.id) == "finished"
    db.session.expire_all()
    report = db.session.get(ExternalReport, report.id)
    received = ncmec_simulator.report(report.ncmec_report_id)
    assert received["internet_detail_types"] == [
        "emailIncident",
        "onlineGamingIncident",
        "peer2peerIncident",
        "cellPhoneIncident",
        "nonInternetIncident",
    ]
    assert len(received["files"]) == sum(len(c.media) for c in cs)
    assert all(f["details_received"] for f in received["files"])
    assert ncmec_simulator.refusals() == []


# --- the migration: every report so far becomes a bundle of one, and back ------------------------------

from tests.databases import fill_row  # noqa: E402
from tests.reporting.test_content_items import scratch_url  # noqa: E402, F401 - a fixture


def test_the_migration_makes_every_report_a_bundle_of_one_and_back(scratch_url, redis_url, tmp_path):  # noqa: F811
    from datetime import datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import MetaData, create_engine, insert, select, text

    from console import create_app
    from tests.conftest import ROOT, _config

    migrations = str(ROOT / "migrations")
    app = create_app(_config(scratch_url, redis_url, tmp_path))
    with app.app_context():
        upgrade(directory=migrations, revision="0009_content_item")
        db.engine.dispose()
    engine = create_engine(scratch_url.replace("postgresql://", "postgresql+psycopg://"))
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = datetime(2026, 11, 1)
    with engine.begin() as conn:
        agency = conn.scalar(select(t["agencies"].c.id).limit(1))
        queue = conn.execute(insert(t["queues"]).values(fill_row(t["queues"], {"name": "q", "slug": "q"})))
        queue = queue.inserted_primary_key[0]
        ids = []
        for n, (item, live) in enumerate([("content:a", True), ("url:b", True), ("content:a", False)]):
            case = conn.execute(
                insert(t["cases"]).values(
                    fill_row(t["cases"], {"queue_id": queue, "reported_at": now, "received_at": now})
                )
            ).inserted_primary_key[0]
            values = {"agency_id": agency, "case_id": case, "fingerprint": item, "live": live, "payload": {}}
            values["url_key"] = "url:b" if n == 1 else None
            ids.append(
                (
                    conn.execute(
                        insert(t["external_reports"]).values(fill_row(t["external_reports"], values))
                    )
                ).inserted_primary_key[0]
            )
    engine.dispose()

    with app.app_context():
        upgrade(directory=migrations, revision="0013_report_bundles")
        rows = db.session.execute(
            text("SELECT report_id, item, url_key, live, position FROM report_contents ORDER BY report_id")
        ).all()
        assert [tuple(r) for r in rows] == [
            (ids[0], "content:a", None, True, 0),
            (ids[1], "url:b", "url:b", True, 0),
            (ids[2], "content:a", None, False, 0),
        ]
        db.session.remove()
        downgrade(directory=migrations, revision="0013_cybertip_fields")
        assert "report_contents" not in db.inspect(db.engine).get_table_names()
        upgrade(directory=migrations, revision="heads")
        count = db.session.scalar(text("SELECT count(*) FROM report_contents"))
        assert count == 3  # upgraded again: each report a bundle of one once more
        db.session.remove()
        db.engine.dispose()
