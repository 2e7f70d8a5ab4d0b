"""console/database.memo: one read per transaction of the small tables a page asks about several times, never
a value older than the transaction's last write (a flush that wrote to its tables, a commit or a rollback
forgets it)."""

from __future__ import annotations

from console.childsafety import access
from console.extensions import db
from console.policies.models import Policy
from console.policies.service import lineage_ids, policy_tree, subtree_ids
from tests import factories
from tests.bench.test_query_counts import counting


def test_a_page_asking_five_questions_about_policies_reads_them_once(ctx):
    tree = factories.policy_tree()
    db.session.commit()
    with counting() as statements:
        access.marks()
        policy_tree()
        subtree_ids(tree["child-safety"].id)
        lineage_ids(tree["csam"].id)
        access.marks()
    policy_reads = [s for s in statements if "FROM policies" in s]
    assert len(policy_reads) == 1, statements
    # The marks also read which queues are marked: once.
    assert len([s for s in statements if "FROM queues" in s]) == 1, statements


def test_a_write_makes_the_next_question_read_again(ctx):
    tree = factories.policy_tree()
    tree["child-safety"].child_safety = True
    db.session.commit()
    assert tree["csam"].id in access.marks().policy_ids
    assert tree["spam"].id not in access.marks().policy_ids
    # Marked and flushed in the same transaction: the memo is forgotten at the flush.
    tree["spam"].child_safety = True
    db.session.flush()
    assert tree["spam"].id in access.marks().policy_ids
    db.session.rollback()
    assert tree["spam"].id not in access.marks().policy_ids
    # A policy added and committed is in the tree at once.
    db.session.add(Policy(slug="new", name="New policy", parent_id=tree["child-safety"].id))
    db.session.commit()
    assert "New policy" in [n.policy.name for n in policy_tree()]
    assert db.session.scalar(db.select(Policy.id).where(Policy.slug == "new")) in access.marks().policy_ids


def test_a_flush_that_writes_other_tables_keeps_the_answers(ctx):
    factories.policy_tree()
    queue, person = factories.queue(), factories.user()
    db.session.commit()
    with counting() as statements:
        access.marks()
        person.name = "Renamed person"  # a write to another table, flushed (as a decision's flushes are)
        db.session.flush()
        policy_tree()
        access.marks()
        queue.name = "Renamed queue"  # a write to a table the marks were read from
        db.session.flush()
        access.marks()
        policy_tree()
    assert len([s for s in statements if "FROM policies" in s]) == 1, statements
    marked_queues = [s for s in statements if "WHERE queues.child_safety" in s]
    assert len(marked_queues) == 2, statements
