"""The statements each read page sends, pinned: a new statement on one of these pages must be a decision
(change the number here and say why), not a drift. test_query_counts.py checks that the counts do not grow
with rows; this checks what they are, for a holder of the child-safety permission and for someone without.

Counted once the signed-in copy is held (console/accounts/signed_in.py), as every request but the first after
a change is: the user costs no statement. Before issue 27, in this same world (holder / without the
permission, the user's row included): queues page 8 / 7, queue page 4 / 6, deep queue page 4 / 6, case page
12 / 13, Assigned to me 2 / 4.
"""

from __future__ import annotations

import pytest

from console.extensions import db
from console.reporting import agencies
from console.reporting.models import ReportingRule
from tests import factories
from tests.bench.test_query_counts import decided_case_with_history, fill_queue, queries_for

# page → (holder, without the permission)
PINNED = {
    # the queues with their oldest open case and live claims; the within-SLA counts; holders: the count of
    # reports still to file (one recursive statement); without: the marks (the policy tree and the marked
    # queues as JSON columns of one statement) and the child-safety cases the counts leave out
    "queues": (3, 4),
    # the queue with the policy tree and marked queues (JSON); its rows; without: the heading's count
    "queue": (2, 3),
    "queue_deep": (2, 3),
    # a decided case with media, decisions and history (policies; the case with the marked queues; media;
    # decisions; history; the viewer's media settings; NCMEC; evidence; hash matches; webhooks; its statement
    # of reasons to the DSA database); someone without the permission opens a case that is not child-safety
    # material (spam)
    "case": (11, 11),
    # the rows; without: the marks first (one statement)
    "assigned": (1, 2),
}


@pytest.fixture
def world(ctx):
    policies = factories.policy_tree()
    policies["child-safety"].child_safety = True
    q = factories.queue()
    fill_queue(q, policies, 12)  # every policy, child-safety ones included
    fill_queue(q, {"spam": policies["spam"]}, 55)  # more than a page for everyone: a cursor to the next one
    holder = factories.user("moderator", child_safety=True)
    other = factories.user("moderator", child_safety=False)
    case_id = decided_case_with_history(q, policies, 2, [holder])
    spam_case = factories.case(q, images=1, policy=policies["spam"])
    from console.cases import service as cases

    cases.decide(spam_case.id, "no_violation", None, other, "checked")
    for who in (holder, other):
        for i in range(3):
            c = factories.case(q, hours_ago=i + 1, policy=policies["spam"])
            cases.escalate(c.id, actor=factories.user("moderator"), note="yours", to_user_id=who.id)
    rule = ReportingRule(
        name="NCMEC",
        agency_id=agencies.ncmec().id,
        policies=[policies["child-safety"]],
        review_queue_id=q.id,
        contact_first_name="A",
        contact_last_name="B",
        contact_email="a@example.org",
        enabled=True,
    )
    db.session.add(rule)
    db.session.commit()
    return dict(queue=q.id, holder=holder.email, other=other.email, case=case_id, spam_case=spam_case.id)


def _paths(client, world, case_id: int) -> dict[str, str]:
    q = world["queue"]
    first = client.get(f"/queues/{q}").text
    cursor = first.split("after=", 1)[1].split('"', 1)[0]
    return {
        "queues": "/queues",
        "queue": f"/queues/{q}",
        "queue_deep": f"/queues/{q}?after={cursor}",
        "case": f"/cases/{case_id}",
        "assigned": "/assigned",
    }


@pytest.mark.parametrize("holder", [True, False], ids=["holder", "without-permission"])
def test_each_read_page_sends_its_pinned_statements(world, client, auth, holder):
    auth.login(world["holder"] if holder else world["other"])
    paths = _paths(client, world, world["case"] if holder else world["spam_case"])
    found = {name: queries_for(client, path) for name, path in paths.items()}
    counts = {name: len(s) for name, s in found.items()}
    expected = {name: pinned[0 if holder else 1] for name, pinned in PINNED.items()}
    sent = "\n\n".join(f"{n}:\n" + "\n".join(" ".join(x.split()) for x in s) for n, s in found.items())
    assert counts == expected, f"sent {counts}, pinned {expected}\n\n{sent}"
    for name, sent in found.items():
        assert not any("FROM users" in s and "session_version" in s for s in sent), (name, "the user's row")
