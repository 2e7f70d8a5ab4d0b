"""Claims: "Next case" hands each moderator a different case; a claimed case is theirs alone till released."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from console.accounts.models import User
from console.audit import case_history
from console.cases import claims, drafts
from console.cases import service as cases
from console.cases.models import Case
from console.extensions import db
from console.timeutil import utcnow
from tests import factories


def _expire(case_id: int) -> None:
    """The lease ran out (a closed laptop): as if CLAIM_SECONDS had passed."""
    db.session.execute(
        update(Case).where(Case.id == case_id).values(claim_expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


def test_next_case_claims_the_oldest_free_case_and_then_the_one_after(ctx):
    ann = factories.user("moderator", name="Ann")
    q = factories.queue()
    old, middle, new = (factories.case(q, hours_ago=h) for h in (30, 20, 10))
    first = claims.next_case(q.id, ann)
    assert first.case_id == old.id and first.holder_name == "Ann" and first.token
    second = claims.next_case(q.id, ann, after_case_id=old.id)
    assert second.case_id == middle.id
    # One claim per moderator: taking the second gave the first back.
    db.session.expire_all()
    assert db.session.get(Case, old.id).claimed_by_id is None
    assert db.session.get(Case, middle.id).claimed_by_id == ann.id
    assert claims.next_case(q.id, ann, after_case_id=middle.id).case_id == new.id
    # Past the last case, "next" wraps round to the head of the queue.
    assert claims.next_case(q.id, ann, after_case_id=new.id).case_id == old.id


def test_two_moderators_get_different_cases_and_an_empty_queue_says_so(ctx):
    ann, bob = factories.user("moderator"), factories.user("moderator")
    q = factories.queue()
    a, b = factories.case(q, hours_ago=5), factories.case(q, hours_ago=4)
    assert claims.next_case(q.id, ann).case_id == a.id
    assert claims.next_case(q.id, bob).case_id == b.id
    assert claims.next_case(q.id, factories.user("moderator")) is None


def test_racing_moderators_each_get_a_different_case(app):
    """Eight moderators press "Next case" at the same moment: eight different cases, none twice."""
    with app.app_context():
        q = factories.queue()
        for h in range(10):
            factories.case(q, hours_ago=20 - h)
        ids = [factories.user("moderator").id for _ in range(8)]
        queue_id = q.id
    barrier = threading.Barrier(len(ids))
    got: list[int | None] = []

    def press_next(uid):
        with app.app_context():
            moderator = db.session.get(User, uid)
            db.session.commit()  # no transaction held while waiting: on SQLite it would hold the write lock
            barrier.wait()
            claim = claims.next_case(queue_id, moderator)
            got.append(claim.case_id if claim else None)

    threads = [threading.Thread(target=press_next, args=(uid,)) for uid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert None not in got and len(set(got)) == len(ids)
    with app.app_context():
        holders = db.session.execute(
            db.select(Case.id, Case.claimed_by_id).where(Case.claimed_by_id.is_not(None))
        ).all()
        assert sorted(case_id for case_id, _ in holders) == sorted(got)
        assert {uid for _, uid in holders} == set(ids)


def test_racing_claims_on_one_case_have_exactly_one_winner(app):
    with app.app_context():
        c = factories.case(factories.queue())
        ids = [factories.user("moderator").id for _ in range(6)]
        case_id = c.id
    barrier = threading.Barrier(len(ids))
    results = []

    def take(uid):
        with app.app_context():
            moderator = db.session.get(User, uid)
            db.session.commit()
            barrier.wait()
            try:
                results.append(("won", claims.claim(case_id, moderator).holder_id))
            except claims.ClaimedByOther as e:
                results.append(("refused", e.claim.holder_id))

    threads = [threading.Thread(target=take, args=(uid,)) for uid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [uid for outcome, uid in results if outcome == "won"]
    assert len(winners) == 1
    # Everyone else was told who has it.
    assert all(uid == winners[0] for outcome, uid in results if outcome == "refused")


def test_a_claimed_case_refuses_anyone_elses_decision_with_the_claimers_name(ctx):
    ann = factories.user("moderator", name="Ann Claimer")
    bob = factories.user("moderator", name="Bob")
    c = factories.case(factories.queue())
    claims.claim(c.id, ann)
    with pytest.raises(claims.ClaimedByOther) as refused:
        cases.decide(c.id, "no_violation", None, bob)
    assert "Being reviewed by Ann Claimer since" in str(refused.value)
    db.session.expire_all()
    assert db.session.get(Case, c.id).status == "open"
    # The claimer decides; the decision gives the claim back.
    cases.decide(c.id, "no_violation", None, ann)
    db.session.expire_all()
    assert db.session.get(Case, c.id).claimed_by_id is None


def test_an_expired_claim_is_free_for_others_and_keeps_the_draft_note(ctx):
    ann, bob = factories.user("moderator", name="Ann"), factories.user("moderator", name="Bob")
    c = factories.case(factories.queue())
    held = claims.claim(c.id, ann)
    claims.renew(c.id, ann, held.token, note="half-written: looks like spam")
    _expire(c.id)
    # Nobody took it meanwhile: Ann's page renews seamlessly.
    assert claims.renew(c.id, ann, held.token) is not None
    _expire(c.id)
    assert claims.claim(c.id, bob).holder_name == "Bob"
    assert claims.renew(c.id, ann, held.token) is None  # her page learns it is gone
    assert drafts.note_of(c.id, ann.id) == "half-written: looks like spam"
    with pytest.raises(claims.ClaimedByOther):
        cases.decide(c.id, "no_violation", None, ann)


def test_a_page_that_is_left_releases_only_its_own_claim(ctx):
    ann = factories.user("moderator")
    c = factories.case(factories.queue())
    old_page = claims.claim(c.id, ann)
    new_page = claims.claim(c.id, ann)  # a reload: the same claim, a new token
    assert new_page.since == old_page.since and new_page.token != old_page.token
    assert claims.release(c.id, ann, token=old_page.token) is False
    assert claims.holder(c.id).holder_id == ann.id
    assert claims.release(c.id, ann, token=new_page.token, note="draft") is True
    assert claims.holder(c.id) is None and drafts.note_of(c.id, ann.id) == "draft"


def test_only_an_admin_releases_someone_elses_claim(ctx):
    ann, bob = factories.user("moderator", name="Ann"), factories.user("moderator")
    admin = factories.user("admin", name="Ada")
    c = factories.case(factories.queue())
    claims.claim(c.id, ann)
    assert claims.release(c.id, bob) is False and claims.holder(c.id).holder_id == ann.id
    assert claims.release(c.id, admin) is True and claims.holder(c.id) is None
    released = [e for e in case_history(c.id) if e.action == "claim_released"]
    assert released and released[0].details["holder"] == "Ann" and released[0].who == "Ada"


def test_next_case_leaves_a_case_escalated_to_a_colleague_to_them(ctx):
    ann, bob = factories.user("moderator"), factories.user("moderator", name="Bob")
    q = factories.queue()
    oldest, other = factories.case(q, hours_ago=9), factories.case(q, hours_ago=1)
    cases.escalate(oldest.id, actor=ann, note="Bob knows this user", to_user_id=bob.id)
    assert claims.next_case(q.id, ann).case_id == other.id
    claims.release(other.id, ann)
    assert claims.next_case(q.id, bob).case_id == oldest.id


def test_a_decision_discards_the_drafts_of_the_case(ctx):
    ann = factories.user("moderator")
    c = factories.case(factories.queue())
    held = claims.claim(c.id, ann)
    claims.renew(c.id, ann, held.token, note="spam, obviously")
    cases.decide(c.id, "no_violation", None, ann, "not spam after all")
    assert drafts.note_of(c.id, ann.id) == ""
