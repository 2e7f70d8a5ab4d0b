from console.extensions import db
from tests import factories


def test_queues_page_lists_each_queue_with_kind_count_and_oldest_age(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    reports = factories.queue("User reports", "user_report")
    lea = factories.queue("LEA", "lea_request")
    factories.case(reports, hours_ago=50)
    factories.case(reports, hours_ago=3)
    auth.login("m@example.org")
    html = client.get("/queues").text
    assert reports.name in html and lea.name in html
    assert "Law-enforcement request" in html and "User reports" in html
    row = html.split(reports.name)[1].split("</tr>")[0]
    assert 'data-count="open">2</td>' in row
    assert "2 d" in row  # the oldest open case, 50 hours old


def test_queue_page_is_oldest_first_with_keyset_pagination(ctx, app, client, auth):
    app.config["PAGE_SIZE"] = 3
    factories.user("moderator", email="m@example.org")
    q = factories.queue()
    made = [factories.case(q, text=f"case text {i}", hours_ago=100 - i) for i in range(7)]
    auth.login("m@example.org")
    first = client.get(f"/queues/{q.id}").text
    assert [f"case text {i}" in first for i in range(4)] == [True, True, True, False]
    assert first.index("case text 0") < first.index("case text 1") < first.index("case text 2")
    cursor = first.split("after=")[1].split('"')[0]
    second = client.get(f"/queues/{q.id}?after={cursor}", headers={"HX-Request": "true"}).text
    assert "<html" not in second  # a fragment to swap in, not a page
    assert "case text 3" in second and "case text 5" in second and "case text 2" not in second
    cursor = second.split("after=")[1].split('"')[0]
    third = client.get(f"/queues/{q.id}?after={cursor}").text
    assert "case text 6" in third and "Load more" not in third
    assert len(made) == 7


def test_queue_filters_by_status_and_policy_including_sub_policies(ctx, client, auth):
    mod = factories.user("moderator", email="m@example.org")
    policies = factories.policy_tree()
    q = factories.queue()
    factories.case(q, text="spam one", policy=policies["spam"])
    factories.case(q, text="csam one", policy=policies["csam"])
    decided = factories.case(q, text="grooming decided", policy=policies["grooming"])
    from console.cases.service import decide

    decide(decided.id, "violation", policies["grooming"].id, mod)
    auth.login("m@example.org")
    child = policies["child-safety"].id
    html = client.get(f"/queues/{q.id}?policy={child}").text
    assert "csam one" in html and "spam one" not in html and "grooming decided" not in html
    html = client.get(f"/queues/{q.id}?status=violation&policy={child}").text
    assert "grooming decided" in html and "csam one" not in html
    html = client.get(f"/queues/{q.id}?status=all").text
    assert all(t in html for t in ("spam one", "csam one", "grooming decided"))


def test_a_garbled_cursor_is_ignored_not_an_error(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    q = factories.queue()
    factories.case(q, text="still here")
    auth.login("m@example.org")
    response = client.get(f"/queues/{q.id}?after=%%%garbage")
    assert response.status_code == 200 and "still here" in response.text


def test_queue_page_query_count_does_not_grow_with_rows(ctx, app, client, auth):
    from sqlalchemy import event

    factories.user("moderator", email="m@example.org")
    q = factories.queue()
    auth.login("m@example.org")

    def count_queries(n_cases: int) -> int:
        for _ in range(n_cases):
            factories.case(q)
        statements = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/queues/{q.id}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    assert count_queries(2) == count_queries(20)
