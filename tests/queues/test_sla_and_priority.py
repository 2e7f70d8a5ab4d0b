"""Each queue has an SLA target and an order; the queues page counts open, claimed and past-SLA cases."""

import re
from datetime import timedelta

from sqlalchemy import func, select, update

from console.cases import claims
from console.cases import service as cases
from console.cases.models import Case
from console.extensions import db
from console.queues import queries
from console.queues.models import Queue
from console.timeutil import utcnow
from tests import factories


def _row(html: str, queue: Queue) -> dict[str, int]:
    row = html.split(f'data-queue="{queue.id}"')[1].split("</tr>")[0]
    return {k: int(v) for k, v in re.findall(r'data-count="([a-z-]+)">(\d+)<', row)}


def _truth(queue: Queue) -> dict[str, int]:
    """The same figures by counting every row: what the page must match."""
    now = utcnow()
    open_ = (Case.queue_id == queue.id, Case.status == "open")
    count = lambda *where: db.session.scalar(select(func.count()).select_from(Case).where(*where))  # noqa: E731
    return {
        "open": count(*open_),
        "claimed": count(*open_, Case.claimed_by_id.is_not(None), Case.claim_expires_at > now),
        "past-sla": count(*open_, Case.reported_at < now - timedelta(minutes=queue.sla_minutes)),
    }


def test_the_queues_page_counts_open_claimed_and_past_sla_as_the_rows_do(ctx, client, auth):
    mod = factories.user("moderator", email="m@example.org")
    ann, bob = factories.user("moderator"), factories.user("moderator")
    fast, slow = factories.queue("Fast"), factories.queue("Slow")
    fast.sla_minutes = 4 * 60
    db.session.commit()
    for hours in (1, 3, 5, 7, 30, 50):
        factories.case(fast, hours_ago=hours)
        factories.case(slow, hours_ago=hours)
    decided = factories.case(fast, hours_ago=100)
    cases.decide(decided.id, "no_violation", None, mod)
    claims.next_case(fast.id, ann)  # the oldest open: 50 h
    claims.next_case(slow.id, bob)
    expired = claims.next_case(slow.id, mod).case_id  # then its lease runs out: not counted
    db.session.execute(
        update(Case).where(Case.id == expired).values(claim_expires_at=utcnow() - timedelta(1))
    )
    db.session.commit()
    auth.login("m@example.org")
    html = client.get("/queues").text
    assert _row(html, fast) == _truth(fast) == {"open": 6, "claimed": 1, "past-sla": 4}
    assert _row(html, slow) == _truth(slow) == {"open": 6, "claimed": 1, "past-sla": 2}
    assert "4 h" in html.split(f'data-queue="{fast.id}"')[1].split("</tr>")[0]


def test_counts_come_from_counters_and_indexes_not_from_counting_the_queue(ctx):
    q = factories.queue()
    for hours in (1, 2, 40):
        factories.case(q, hours_ago=hours)
    # A wrong counter shows through: the page trusts Queue.open_cases, it does not count the backlog.
    db.session.execute(update(Queue).where(Queue.id == q.id).values(open_cases=10))
    db.session.commit()
    (summary,) = queries.summaries()
    assert (summary.queue.open_cases, summary.past_sla) == (10, 8)


def test_a_priority_queue_hands_out_and_lists_the_most_urgent_first_a_page_at_a_time(ctx, app, client, auth):
    app.config["PAGE_SIZE"] = 2
    mod = factories.user("moderator", email="m@example.org")
    policies = factories.policy_tree()
    q = factories.queue("AI review", "ai_review")
    q.review_order = "priority"
    db.session.commit()
    low = factories.case(q, text="old, no AI", hours_ago=50)
    sure = factories.case(q, text="AI sure", hours_ago=2, ai_policy=policies["csam"])  # 0.97 confidence
    mid = cases.open_case(
        q, reported_at=utcnow() - timedelta(hours=9), text="reported by many", report_count=6
    )
    db.session.commit()
    # AI review 20 + 0.97 × 30 = 49; 20 + 5 × 3 = 35; 20 alone.
    assert (sure.priority_rank, mid.priority_rank, low.priority_rank) == (51, 65, 80)
    auth.login("m@example.org")
    first = client.get(f"/queues/{q.id}").text
    assert first.index("AI sure") < first.index("reported by many") and "old, no AI" not in first
    cursor = first.split("after=")[1].split('"')[0]
    second = client.get(f"/queues/{q.id}?after={cursor}", headers={"HX-Request": "true"}).text
    assert "old, no AI" in second and "AI sure" not in second
    assert claims.next_case(q.id, mod).case_id == sure.id
    assert claims.next_case(q.id, mod, after_case_id=sure.id).case_id == mid.id


def test_an_admin_sets_a_queues_sla_and_order_a_moderator_cannot(ctx, client, auth):
    factories.user("moderator", email="m@example.org")
    factories.user("admin", email="a@example.org")
    q = factories.queue()
    auth.login("m@example.org")
    assert "Queue settings" not in client.get(f"/queues/{q.id}").text
    forbidden = auth.post(f"/queues/{q.id}/settings", {"sla_hours": 4, "review_order": "priority"})
    assert forbidden.status_code == 403
    auth.post("/logout")
    auth.login("a@example.org")
    bad = auth.post(f"/queues/{q.id}/settings", {"sla_hours": 0, "review_order": "priority"})
    assert bad.status_code == 422 and "Queue settings" in bad.text
    done = auth.post(f"/queues/{q.id}/settings", {"sla_hours": 4, "review_order": "priority"})
    assert done.status_code == 302
    db.session.expire_all()
    assert (db.session.get(Queue, q.id).sla_minutes, db.session.get(Queue, q.id).review_order) == (
        240,
        "priority",
    )
