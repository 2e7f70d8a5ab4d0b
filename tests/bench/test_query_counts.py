"""The number of SQL queries a page makes must not grow with the rows it shows (no N+1).

Each page is rendered twice, over a small and a larger data set of the same shape; the count of statements
sent to the database (an SQLAlchemy `before_cursor_execute` listener on `db.engine`) must be the same.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from console.cases import service as cases
from console.cases.models import Decision
from console.extensions import db
from console.timeutil import utcnow
from tests import factories


@contextmanager
def counting():
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def queries_for(client, path: str) -> list[str]:
    # A fresh application context: the request gets its own session, as in production, instead of sharing
    # the test's identity map (which would hide lazy loads of objects the test already holds). The test's own
    # transaction ends first: on SQLite it would hold the write lock.
    db.session.commit()
    with client.application.app_context():
        client.get(path)  # once before counting: one-time lookups cached per process are not per-row work
    with client.application.app_context(), counting() as statements:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return list(statements)


def fill_queue(queue, policies, n: int) -> None:
    names = list(policies)
    for i in range(n):
        # A different reported user and policy per row: lazy loads would show as extra queries.
        factories.case(queue, hours_ago=i + 1, policy=policies[names[i % len(names)]])


@pytest.fixture
def moderator(ctx, auth):
    mod = factories.user("moderator")
    auth.login(mod.email)
    return mod


def test_queues_page_queries_do_not_grow_with_queues_or_cases(ctx, client, moderator):
    policies = factories.policy_tree()
    fill_queue(factories.queue(), policies, 2)
    small = queries_for(client, "/queues")
    for _ in range(5):
        fill_queue(factories.queue(), policies, 8)
    large = queries_for(client, "/queues")
    assert len(large) == len(small), "\n\n".join(large)


def test_queue_page_queries_do_not_grow_with_rows(ctx, client, moderator):
    policies = factories.policy_tree()
    q = factories.queue()
    fill_queue(q, policies, 3)
    small = queries_for(client, f"/queues/{q.id}")
    fill_queue(q, policies, 60)  # more than a page: the cursor link appears too
    large = queries_for(client, f"/queues/{q.id}")
    assert len(large) == len(small), "\n\n".join(large)
    deeper = client.get(f"/queues/{q.id}").text
    assert "after=" in deeper
    cursor = deeper.split("after=", 1)[1].split('"', 1)[0]
    assert len(queries_for(client, f"/queues/{q.id}?after={cursor}")) == len(small)


def decided_case_with_history(queue, policies, images: int, moderators: list) -> int:
    c = factories.case(queue, images=images, policy=policies["csam"])
    for mod in moderators:
        for m in c.media:
            cases.reveal(m.id, c.id, mod)
    db.session.add(
        Decision(
            case_id=c.id,
            verdict="violation",
            policy_id=policies["csam"].id,
            made_by="ai",
            note="",
            created_at=utcnow(),
        )
    )
    db.session.commit()
    cases.decide(c.id, "no_violation", None, moderators[-1], "checked")
    db.session.commit()
    return c.id


def test_case_page_queries_do_not_grow_with_media_decisions_and_history(ctx, client, moderator):
    policies = factories.policy_tree()
    q = factories.queue()
    small_id = decided_case_with_history(q, policies, 1, [moderator])
    small = queries_for(client, f"/cases/{small_id}")
    large_id = decided_case_with_history(q, policies, 4, [moderator])
    large = queries_for(client, f"/cases/{large_id}")
    assert len(large) == len(small), "\n\n".join(large)


def test_case_page_queries_do_not_grow_with_the_people_in_its_history(ctx, client, moderator):
    policies = factories.policy_tree()
    q = factories.queue()
    small_id = decided_case_with_history(q, policies, 2, [moderator])
    small = queries_for(client, f"/cases/{small_id}")
    others = [factories.user("moderator") for _ in range(4)]
    large_id = decided_case_with_history(q, policies, 2, [moderator, *others])
    large = queries_for(client, f"/cases/{large_id}")
    assert len(large) == len(small), "\n\n".join(large)


def test_reported_user_page_queries_do_not_grow_with_their_cases(ctx, client, moderator):
    policies = factories.policy_tree()
    who = {"platform_id": "p-1", "name": "Repeat"}
    queues = [factories.queue() for _ in range(3)]
    first = factories.case(queues[0], images=1, reported_user=who)
    cases.decide(first.id, "no_violation", None, moderator)
    small = queries_for(client, f"/reported-users/{first.reported_user_id}")
    for i in range(12):  # more queues, files, decisions and people: still the same statements
        c = factories.case(queues[i % 3], images=i % 3, reported_user=who, policy=policies["spam"])
        if i % 2:
            cases.decide(c.id, "no_violation", None, factories.user("moderator"))
    large = queries_for(client, f"/reported-users/{first.reported_user_id}")
    assert len(large) == len(small), "\n\n".join(large)


def test_assigned_page_queries_do_not_grow_with_rows(ctx, client, moderator):
    colleague = factories.user("moderator")
    queues = [factories.queue() for _ in range(3)]

    def assign(n: int) -> None:
        for i in range(n):
            c = factories.case(queues[i % 3], hours_ago=i + 1)
            cases.escalate(c.id, actor=colleague, note="yours", to_user_id=moderator.id)

    assign(2)
    small = queries_for(client, "/assigned")
    assign(10)
    large = queries_for(client, "/assigned")
    assert len(large) == len(small), "\n\n".join(large)
