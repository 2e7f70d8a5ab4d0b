"""The console delivering to the demo platform (demo_platform/, its own package): what `make run` shows."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from console import demo
from console.cases import service as cases
from console.extensions import db
from console.webhooks import delivery, enrichment
from console.webhooks.models import WebhookEndpoint, WebhookEvent
from demo_platform import PlatformServer
from tests import factories
from tests.webhooks.conftest import SECRET


@pytest.fixture
def demo_platform():
    server = PlatformServer(SECRET).start()
    yield server
    server.shutdown()


@pytest.fixture
def demo_world(ctx, demo_platform):
    demo.load(cases_per_queue=1)
    demo.connect_platform(demo_platform.webhook_url, SECRET)
    return demo_platform


def _confirm(policy_slug: str):
    from console.policies.models import Policy
    from console.queues.models import Queue

    policy = db.session.scalar(select(Policy).where(Policy.slug == policy_slug))
    queue = db.session.scalar(select(Queue).where(Queue.slug == "user-reports"))
    count = db.session.scalar(select(func.count()).select_from(WebhookEvent))
    case = factories.case(queue, policy=policy, content_id=f"post-{policy_slug}-{count}")
    cases.decide(case.id, "violation", policy.id, factories.user())
    events = db.session.scalars(select(WebhookEvent).where(WebhookEvent.case_id == case.id)).all()
    return case, events


def test_confirming_csam_removes_the_content_and_disables_the_account_there(demo_world):
    case, events = _confirm("csam")
    assert [e.type for e in events] == ["content.remove", "account.disable"]
    # One job delivers both: the second event is the same endpoint's, due, and taken in the first's batch.
    assert [delivery.deliver(e.id) for e in events] == ["delivered", None]
    db.session.expire_all()
    assert [e.state for e in events] == ["delivered", "delivered"]
    state = demo_world.store.state()
    assert state["content"][case.content_id]["state"] == "removed"
    assert state["accounts"][case.reported_user.platform_id]["state"] == "disabled permanently"
    assert all(d["verified"] for d in state["deliveries"])


def test_spam_only_removes_and_no_violation_restores(demo_world):
    _case, events = _confirm("spam")
    assert [e.type for e in events] == ["content.remove"]
    other = factories.case(db.session.get(type(_case), _case.id).queue)
    cases.decide(other.id, "no_violation", None, factories.user())
    restore = db.session.scalars(select(WebhookEvent).where(WebhookEvent.case_id == other.id)).all()
    assert [e.type for e in restore] == ["content.restore"]


def test_a_duplicate_delivery_is_acknowledged_and_not_applied_twice(demo_world):
    _case, (remove, _disable) = _confirm("csam")
    assert delivery.deliver(remove.id) == "delivered"
    from console.webhooks import service

    db.session.execute(
        WebhookEvent.__table__.update().where(WebhookEvent.id == remove.id).values(state="failed")
    )
    db.session.commit()
    assert service.resend(remove.id)
    assert delivery.deliver(remove.id) == "delivered"  # the same webhook-id again
    deliveries = [d for d in demo_world.store.state()["deliveries"] if d["webhook_id"] == remove.message_id]
    assert sorted(d["duplicate"] for d in deliveries) == [0, 1]


def test_injected_faults_500_then_410(demo_world, ctx):
    ctx.config.update({"WEBHOOK_RETRY_BASE_SECONDS": 0, "WEBHOOK_RETRY_MAX_SECONDS": 0})
    demo_world.store.add_faults("500", 1)
    demo_world.store.add_faults("410", 1)
    _case, (remove, disable) = _confirm("csam")
    assert delivery.deliver(remove.id) == "pending"
    assert delivery.deliver(remove.id) == "stopped"
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert delivery.deliver(disable.id) is None


def test_its_enrichment_answer_passes_the_consoles_checks(demo_world):
    import json

    import requests

    body = {
        "type": "enrichment.request",
        "data": {"account": {"platform_id": "u-1"}, "files": [{"sha256": "b" * 64}]},
    }
    raw = json.dumps(body).encode()
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_test",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": delivery.sign("msg_test", raw, [SECRET], now),
        "content-type": "application/json",
    }
    answer = requests.post(demo_world.webhook_url, data=raw, headers=headers, timeout=5).json()
    checked = enrichment.parse(answer)  # raises BadAnswer naming the field if the demo answered badly
    assert checked["reported_user"]["details"]["device_ids"] and checked["files"]["b" * 64]["upload_ip"]["ip"]
    headers["webhook-signature"] = delivery.sign("msg_test", raw, ["whsec_" + "A" * 32], now)
    assert requests.post(demo_world.webhook_url, data=raw, headers=headers, timeout=5).status_code == 401
