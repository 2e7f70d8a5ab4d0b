"""One report per content item — the platform's content id, else its URL, else the case — never per bytes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import MetaData, create_engine, insert, select, text

from console import create_app
from console.extensions import db
from console.media import storage
from console.reporting import filing, pipeline
from tests import factories
from tests.databases import fill_row, own_database
from tests.factories import CSAM
from tests.reporting.helpers import reporting_setup


@pytest.fixture
def fast(app):
    app.config.update(NCMEC_CONNECT_TIMEOUT=1, NCMEC_READ_TIMEOUT=2, REPORT_RETRY_BASE_SECONDS=0)


def file(case, rule):
    report, created = filing.create_report(case, rule, CSAM, triggered_by="human")
    db.session.commit()
    return report, created


def finished_at_service(simulator) -> list[dict]:
    return [r for r in simulator.reports() if r["state"] == "finished"]


def test_the_same_bytes_in_two_posts_are_two_finished_reports(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    first = factories.case(review, images=1, content_id="post-1", content_url="https://platform.example/p/1")
    second = factories.case(review, content_id="post-2", content_url="https://platform.example/p/2")
    with open(storage.path_for(first.media[0]), "rb") as fh:
        storage.store(second.id, "same.png", fh, "image/png")
    db.session.commit()
    db.session.refresh(second)
    assert first.media[0].sha256 == second.media[0].sha256

    a, created_a = file(first, rule)
    b, created_b = file(second, rule)
    assert created_a and created_b and a.fingerprint != b.fingerprint
    assert pipeline.drive(a.id) == "finished" and pipeline.drive(b.id) == "finished"
    assert len(finished_at_service(ncmec_simulator)) == 2


def test_the_same_item_re_reviewed_and_retried_is_one_report(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    c = factories.case(review, images=1, content_id="post-9", content_url="https://platform.example/p/9")
    report, created = file(c, rule)
    again, created_again = file(c, rule)
    assert created and not created_again and again.id == report.id
    assert pipeline.drive(report.id) == "finished"
    assert pipeline.drive(report.id) is None  # a retried job finds the row finished: nothing to drive
    db.session.expire_all()
    after_finish, created = file(db.session.get(type(c), c.id), rule)
    assert not created and after_finish.id == report.id
    assert len(finished_at_service(ncmec_simulator)) == 1


def test_two_user_reports_of_one_post_by_its_url_are_one_report(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    one = factories.case(review, content_url="https://Platform.example/p/42/")
    other = factories.case(review, content_url="https://platform.example/p/42")
    report, created = file(one, rule)
    again, created_again = file(other, rule)
    assert created and not created_again and again.id == report.id


@pytest.mark.parametrize("id_first", [True, False])
def test_an_item_named_by_content_id_once_and_by_url_once_is_one_report(ctx, fast, ncmec_simulator, id_first):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    by_id = factories.case(review, content_id="post-7", content_url="https://platform.example/p/7")
    by_url = factories.case(review, content_url="https://platform.example/p/7/")
    first, second = (by_id, by_url) if id_first else (by_url, by_id)
    report, created = file(first, rule)
    again, created_again = file(second, rule)
    assert created and not created_again and again.id == report.id


def test_two_content_ids_sharing_a_url_are_two_items(ctx, fast, ncmec_simulator):
    """The platform names them apart (a post and its edit, two threads of one conversation): it knows."""
    _policies, review, rule = reporting_setup(ncmec_simulator)
    a = factories.case(review, content_id="thread-1", content_url="https://platform.example/chat/5")
    b = factories.case(review, content_id="thread-2", content_url="https://platform.example/chat/5")
    assert file(a, rule)[1] and file(b, rule)[1]


def test_a_case_with_no_id_and_no_url_is_its_own_item(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    a = factories.case(review, text="first message")
    b = factories.case(review, text="first message")
    ra, rb = file(a, rule)[0], file(b, rule)[0]
    assert ra.fingerprint == f"case:{a.id}" and rb.fingerprint == f"case:{b.id}"


def test_a_retracted_report_frees_its_item_for_a_new_one(ctx, fast, ncmec_simulator):
    _policies, review, rule = reporting_setup(ncmec_simulator)
    c = factories.case(review, content_id="post-3")
    report, _ = file(c, rule)
    from console.reporting import service

    service.retract(report.id, reason="filed by mistake")  # never sent: nothing to retract at NCMEC
    db.session.expire_all()
    assert not report.live and not report.contents[0].live
    again, created = file(c, rule)
    assert created and again.id != report.id


# The migration re-keys existing reports from their cases (0009_content_item).


@pytest.fixture
def scratch_url(tmp_path):
    """An empty database of the configured kind, for migrating by hand."""
    with own_database(tmp_path, "console_scratch") as url:
        yield url


def test_the_migration_re_keys_existing_reports_by_content_item(scratch_url, redis_url, tmp_path):
    from flask_migrate import upgrade

    from tests.conftest import ROOT, _config

    app = create_app(_config(scratch_url, redis_url, tmp_path))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="0008_queue_open_hours")
        db.engine.dispose()
    url = scratch_url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    now = datetime(2026, 11, 1)
    with engine.begin() as conn:
        agency = conn.scalar(select(t["agencies"].c.id).limit(1))
        queue = conn.execute(
            insert(t["queues"]).values(fill_row(t["queues"], {"name": "q", "slug": "q"}))
        ).inserted_primary_key[0]

        def case(**kw):
            values = fill_row(t["cases"], {"queue_id": queue, "reported_at": now, "received_at": now, **kw})
            return conn.execute(insert(t["cases"]).values(values)).inserted_primary_key[0]

        def report(case_id, fingerprint, live=True):
            values = fill_row(
                t["external_reports"],
                {
                    "agency_id": agency,
                    "case_id": case_id,
                    "fingerprint": fingerprint,
                    "live": live,
                    "payload": {},
                },
            )
            return conn.execute(insert(t["external_reports"]).values(values)).inserted_primary_key[0]

        with_id = case(content_id="post-1", content_url="https://platform.example/p/1")
        url_only_a = case(content_url="https://platform.example/p/2")
        url_only_b = case(content_url="https://platform.example/p/2/")  # kept apart by its bytes before
        bare = case(content_url="")
        # Old keys: bytes for media, the URL before the content id.
        r1 = report(with_id, "url:old-key-of-p1")
        r2 = report(url_only_a, "sha256:" + "a" * 64)
        r3 = report(url_only_b, "sha256:" + "b" * 64)
        r4 = report(bare, "case:old")
        r5 = report(url_only_b, "sha256:" + "b" * 64, live=False)  # retracted: not in the unique index
    engine.dispose()

    app = create_app(_config(scratch_url, redis_url, tmp_path))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="0009_content_item")
        rows = dict(db.session.execute(text("SELECT id, fingerprint FROM external_reports")).all())
        url_keys = dict(db.session.execute(text("SELECT id, url_key FROM external_reports")).all())
        db.session.remove()
        db.engine.dispose()
    assert rows[r1] == filing._content_key("post-1") and url_keys[r1] == filing._url_key(
        "https://platform.example/p/1"
    )
    assert rows[r2] == filing._url_key("https://platform.example/p/2")
    # The same URL now, filed separately before: the younger keeps to its own case.
    assert rows[r3] == f"case:{url_only_b}"
    assert rows[r4] == f"case:{bare}" and url_keys[r4] is None
    assert rows[r5] == filing._url_key("https://platform.example/p/2")  # not live: no collision to avoid
    assert len({rows[r] for r in (r1, r2, r3, r4)}) == 4


def test_an_upgraded_database_finds_old_reports_by_their_item(ctx, fast, ncmec_simulator):
    """After the migration the lookup and the index agree: a re-review of an old case finds its report."""
    _policies, review, rule = reporting_setup(ncmec_simulator)
    c = factories.case(review, content_id="post-5", content_url="https://platform.example/p/5")
    report, _ = file(c, rule)
    assert report.fingerprint == filing.content_item(c) and report.url_key == filing.url_key(c)
    assert filing.existing_report_for(c, rule.agency_id).id == report.id
    twin = factories.case(review, content_url="https://platform.example/p/5")
    assert filing.existing_report_for(twin, rule.agency_id).id == report.id
