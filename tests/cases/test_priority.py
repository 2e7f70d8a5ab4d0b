"""A case's priority: its source, how many people reported it, the AI's confidence — sent by the platform."""

from console.api import tokens
from console.cases import priority
from console.cases.models import Case
from console.extensions import db
from tests import factories


def test_priority_weighs_source_reports_and_ai_confidence_each_capped():
    assert priority.score("user_report") == 10
    assert priority.score("lea_request") == 40
    assert priority.score("user_report", report_count=6) == 10 + 5 * 3
    assert priority.score("user_report", report_count=500) == 10 + 10 * 3  # many reports count up to eleven
    assert priority.score("ai_review", ai_confidence=0.97) == 20 + 29
    assert priority.score("lea_request", report_count=99, ai_confidence=1.0) == 100
    assert priority.rank("lea_request", report_count=99, ai_confidence=1.0) == 0  # reviewed first


def test_the_platform_sends_the_report_count_and_the_case_is_ranked_by_it(ctx, client):
    factories.queue("User reports", "user_report")
    _token, raw = tokens.create_token("platform")
    headers = {"Authorization": f"Bearer {raw}"}
    post = {
        "content_id": "post-7",
        "text": "reported by many",
        "reported_at": "2026-01-01T00:00:00Z",
        "source_kind": "user_report",
        "reported_user": {"platform_id": "u-7"},
    }
    response = client.post("/api/v1/cases", json={**post, "report_count": 6}, headers=headers)
    assert response.status_code == 201, response.json
    case = db.session.scalar(db.select(Case).where(Case.content_id == "post-7"))
    assert (case.report_count, case.priority_rank) == (6, 100 - 25)
    for bad in (0, -1, True, "3", 2.5, 10**9):
        refused = client.post(
            "/api/v1/cases", json={**post, "content_id": f"p-{bad}", "report_count": bad}, headers=headers
        )
        assert refused.status_code == 422 and "report_count" in refused.json["errors"], bad
