"""The transparency page's figures equal the ones computed by hand from a fixture of known reports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from console import audit
from console.extensions import db
from console.hashbank.models import HashEntry, HashMatch, HashSource
from console.reporting.models import ExternalReport
from tests import factories
from tests.settings.helpers import make_rule

CSAM = factories.CSAM
ENTICEMENT = "Online Enticement of Children for Sexual Acts"
PERIOD = "from=2026-01-01&to=2026-03-31"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def report(
    rule, queue, *, finished, incident=CSAM, trigger="human", decided=None, created=None, state="finished"
):
    case = factories.case(queue, images=1)
    case.status, case.decided_at = "violation", at(decided) if decided else None
    created_at = at(created) if created else (at(decided) if decided else at(finished))
    r = ExternalReport(
        agency_id=rule.agency_id,
        case_id=case.id,
        rule_id=rule.id,
        fingerprint=f"test:{case.id}",
        state=state,
        triggered_by=trigger,
        incident_type=incident,
        contact_first_name="Rita",
        contact_last_name="Reporter",
        contact_email="rita@example.org",
        payload={},
        ncmec_report_id=str(1000 + case.id),
        created_at=created_at,
        updated_at=created_at,
        finished_at=at(finished) if state == "finished" else None,
    )
    db.session.add(r)
    db.session.commit()
    return case


def event(action: str, when: str, **details) -> None:
    audit.record(action, "external_report", 1, actor_label="worker", **details).at = at(when)
    db.session.commit()


def match(case, algorithm: str, when: str, cybertip: str | None = None) -> None:
    source = HashSource(kind="import", label="list")
    db.session.add(source)
    db.session.flush()
    entry = HashEntry(source_id=source.id, algorithm=algorithm, value=f"{algorithm}-{case.id}-{when}")
    db.session.add(entry)
    db.session.flush()
    db.session.add(
        HashMatch(
            case_id=case.id,
            media_id=case.media[0].id,
            entry_id=entry.id,
            algorithm=algorithm,
            cybertip_id=cybertip,
            created_at=at(when),
        )
    )
    db.session.commit()


@pytest.fixture
def fixture(ctx, client, auth):
    factories.user("admin", email="admin@example.org")
    policies = factories.policy_tree()
    queue = factories.queue("AI review", "ai_review")
    rule = make_rule(policies, queue)
    # Durations from confirmation to finished: 30 s, 240 s, 3600 s, 3599 s, 172,800 s (2 days), 601 s.
    report(rule, queue, decided="2026-01-10T10:00:00", finished="2026-01-10T10:00:30", trigger="ai")
    report(rule, queue, decided="2026-01-20T09:00:00", finished="2026-01-20T09:04:00")
    enticement = report(
        rule, queue, decided="2026-02-05T12:00:00", finished="2026-02-05T13:00:00", incident=ENTICEMENT
    )
    report(rule, queue, decided="2026-02-28T23:00:00", finished="2026-02-28T23:59:59", trigger="ai")
    report(
        rule,
        queue,
        decided="2026-03-29T23:59:00",
        finished="2026-03-31T23:59:00",
        incident=ENTICEMENT,
        trigger="ai",
    )
    # No decision time: from the report's creation.
    report(rule, queue, created="2026-03-03T10:00:00", finished="2026-03-03T10:10:01")
    # Outside the period, or not finished: not counted.
    report(rule, queue, decided="2026-03-31T23:00:00", finished="2026-04-01T00:00:00")
    report(rule, queue, decided="2025-12-31T23:00:00", finished="2025-12-31T23:59:59")
    report(rule, queue, decided="2026-02-10T10:00:00", finished="2026-02-10T10:00:00", state="failed")

    event("report_failed", "2026-02-11T10:00:00", reason="NCMEC refused the report: incidentType")
    event("report_failed", "2026-02-12T10:00:00", reason="NCMEC refused the report: incidentType")
    event("report_waiting_credentials", "2026-03-01T08:00:00", reason="=401 unauthorised")
    event("report_failed", "2026-04-02T08:00:00", reason="NCMEC refused the report: incidentType")
    event("report_resumed", "2026-02-13T10:00:00")
    event("report_resumed", "2026-02-14T10:00:00")
    event("report_restarted", "2026-01-05T10:00:00", reason="an upload's outcome was unknown")

    q = factories.queue()
    case_a, case_b, case_c, case_d = (factories.case(q, images=1) for _ in range(4))
    match(case_a, "pdq", "2026-01-15T10:00:00")
    match(case_a, "sha256", "2026-01-15T10:00:01")
    match(case_b, "md5", "2026-02-02T10:00:00")
    match(case_c, "videohash", "2026-03-09T10:00:00")
    match(case_c, "pdq", "2026-03-09T10:00:00")
    match(case_d, "pdq", "2026-04-09T10:00:00")
    # The enticement report's case matched an earlier CyberTip: a follow-up.
    match(enticement, "pdq", "2026-02-05T11:00:00", cybertip="777")
    auth.login("admin@example.org")


def exported(client) -> dict[tuple[str, str, str], str]:
    response = client.get(f"/transparency/export.csv?{PERIOD}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "month", "key", "value"]
    return {(s, m, k): v for s, m, k, v in rows[1:]}


def test_the_figures_equal_the_hand_computed_ones(fixture, client):
    figures = exported(client)
    cybertips = {(m, k): int(v) for (s, m, k), v in figures.items() if s == "cybertips"}
    assert cybertips == {
        ("2026-01", CSAM): 2,
        ("2026-01", ENTICEMENT): 0,
        ("2026-02", CSAM): 1,
        ("2026-02", ENTICEMENT): 1,
        ("2026-03", CSAM): 1,
        ("2026-03", ENTICEMENT): 1,
        ("total", CSAM): 4,
        ("total", ENTICEMENT): 2,
    }
    trigger = {(m, k): int(v) for (s, m, k), v in figures.items() if s == "cybertips_by_trigger"}
    assert trigger[("total", "automatic")] == 3 and trigger[("total", "human")] == 3
    assert trigger[("2026-01", "automatic")] == 1 and trigger[("2026-03", "human")] == 1

    # Sorted: 30, 240, 601, 3599, 3600, 172800. Median (601 + 3599) / 2; p90 the 6th of 6 (nearest rank).
    assert figures[("confirmation_to_finished", "", "reports")] == "6"
    assert figures[("confirmation_to_finished", "", "median_seconds")] == "2100"
    assert figures[("confirmation_to_finished", "", "p90_seconds")] == "172800"
    distribution = {
        k: int(v) for (s, _m, k), v in figures.items() if s == "confirmation_to_finished_distribution"
    }
    assert distribution == {
        "under 1 min": 1,
        "1–5 min": 1,
        "5–15 min": 1,
        "15–60 min": 1,
        "1–6 h": 1,
        "6–24 h": 0,
        "1–3 days": 1,
        "3 days or more": 0,
    }

    assert figures[("failures", "", "Failed: NCMEC refused the report: incidentType")] == "2"
    assert figures[("failures", "", "Waiting for credentials: =401 unauthorised")] == "1"
    assert figures[("retries", "", "Put back to work by a person")] == "2"
    assert figures[("retries", "", "Filed anew: an upload's outcome was unknown")] == "1"

    matches = {(m, k): int(v) for (s, m, k), v in figures.items() if s == "reupload_matches"}
    assert matches[("2026-01", "exact")] == 1 and matches[("2026-01", "perceptual")] == 1
    assert matches[("2026-01", "cases")] == 1
    assert matches[("2026-02", "exact")] == 1 and matches[("2026-02", "perceptual")] == 1
    assert matches[("2026-02", "cases")] == 2
    assert matches[("2026-03", "detector")] == 1 and matches[("2026-03", "perceptual")] == 1
    assert matches[("2026-03", "cases")] == 1
    assert figures[("follow_up_reports", "", "finished")] == "1"


def test_the_page_shows_the_same_figures_and_draws_the_chart(fixture, client):
    page = client.get(f"/transparency/?{PERIOD}").text
    assert 'id="cybertips-total">6<' in page
    assert 'id="trigger-automatic">3<' in page and 'id="trigger-human">3<' in page
    assert 'data-seconds="2100">35 min 0 s<' in page and 'data-seconds="172800">2 d 0 h<' in page
    assert page.count("<rect ") == 8 and '<svg class="chart"' in page
    assert "NCMEC refused the report: incidentType" in page and 'id="follow-ups">1<' in page


def test_a_bad_period_shows_the_last_twelve_months_and_says_why(fixture, client):
    for query in ("from=2026-13-01", "from=2026-03-01&to=2026-01-01", "from=0001-01-01", "to=" + "9" * 30):
        response = client.get(f"/transparency/?{query}")
        assert response.status_code == 200
        assert "showing the last twelve months" in response.text


def test_transparency_is_for_admins(ctx, client, auth):
    factories.user("moderator", email="mod@example.org")
    auth.login("mod@example.org")
    assert client.get("/transparency/").status_code == 403
    assert client.get("/transparency/export.csv").status_code == 403


def test_admins_find_transparency_and_the_hash_bank_in_the_menus(ctx, client, auth):
    factories.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    assert 'href="/transparency/"' in client.get("/queues").text
    assert 'href="/hash-bank/"' in client.get("/settings/").text
