"""`database.reads_only`: a read page on PostgreSQL runs without a transaction, and a write there is refused
rather than committed statement by statement."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console.cases.models import ReportedUser
from console.database import ReadOnlyViolation, reads_only
from console.extensions import db
from console.security import public


@pytest.fixture
def routes(app):
    @public
    @reads_only
    def reads():
        return str(db.session.scalar(select(func.count()).select_from(ReportedUser)))

    @public
    @reads_only
    def writes():
        db.session.add(ReportedUser(platform_id="p-ro", ip_events=[]))
        db.session.flush()
        return "written"

    app.add_url_rule("/test/reads", "test_reads", reads)
    app.add_url_rule("/test/writes", "test_writes", writes)
    return app


def test_a_read_page_answers(routes, client):
    assert client.get("/test/reads").text == "0"


def test_a_write_in_a_read_page_is_refused_and_nothing_is_stored(routes, client):
    if not routes.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite keeps its transaction around a read page: reads_only changes nothing there")
    routes.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(ReadOnlyViolation):
        client.get("/test/writes")
    with routes.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportedUser)) == 0
