"""Every path to a decision runs its actions the same way: a moderator's case, the AI review queue's
confirmation (filed automatically), and a hash-bank match routed to the review queue and confirmed there."""

from __future__ import annotations

from sqlalchemy import select

from console.extensions import db
from console.webhooks.models import WebhookEvent
from tests import factories
from tests.hashbank.helpers import encoded, picture, post_case, reencoded
from tests.hashbank.test_reuploads import confirm, world  # noqa: F401 - the fixture, reused
from tests.webhooks.conftest import setup_platform

EXPECTED = ["content.remove", "account.disable"]


def _types(case_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookEvent.type).where(WebhookEvent.case_id == case_id).order_by(WebhookEvent.id)
        )
    )


def test_the_three_paths_to_a_confirmed_csam_decision_run_the_same_actions(
    world,  # noqa: F811 - the hash bank's fixture
    ctx,
    client,
    auth,
    receiver,
):
    setup_platform(ctx, receiver, world.policies)
    csam = world.policies["csam"].id
    # 1. A moderator's case in a user queue (the dialog asks for the report).
    human = factories.case(world.user_reports, policy=world.policies["csam"])
    confirm(auth, human.id, csam)
    # 2. An AI detection in the rule's review queue (filed automatically).
    ai = post_case(
        client,
        world.token,
        "post-ai",
        [("ai.png", encoded(picture(7)), "image/png")],
        ai_decision={"policy": "csam", "confidence": 0.99, "model": "classifier"},
    )
    assert confirm(auth, ai["case_id"], csam) is not None
    # 3. A re-upload the hash bank recognised, routed to the review queue.
    copy = post_case(
        client, world.token, "post-copy", [("copy.jpg", reencoded(world.original), "image/jpeg")]
    )
    assert copy["queue"] == world.review.slug
    confirm(auth, copy["case_id"], csam)
    assert [_types(c) for c in (human.id, ai["case_id"], copy["case_id"])] == [EXPECTED] * 3
