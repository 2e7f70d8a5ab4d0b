"""A decision's actions delivered to a platform over real HTTP, verified there by `standardwebhooks`."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from console import urlguard
from console.audit import AuditEvent
from console.cases import service as cases
from console.cases.models import ReportedUser
from console.extensions import db
from console.timeutil import utcnow
from console.webhooks import delivery, endpoints, service, sweep
from console.webhooks.models import WebhookAttempt, WebhookEndpoint, WebhookEvent
from tests import factories
from tests.webhooks.conftest import SECRET
from tests.webhooks.receiver import Answer


def _confirm(platform, policy="csam", **kwargs):
    moderator = factories.user()
    case = factories.case(factories.queue(), policy=platform["policies"][policy])
    outcome = cases.decide(
        case.id, "violation", platform["policies"][policy].id, moderator, "seen it", **kwargs
    )
    return outcome.case, moderator


def _events(case_id: int) -> list[WebhookEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(WebhookEvent).where(WebhookEvent.case_id == case_id).order_by(WebhookEvent.id)
        )
    )


def _due_now(event_id: int) -> None:
    """Skip the backoff wait (its length is tested on its own)."""
    db.session.execute(
        WebhookEvent.__table__.update().where(WebhookEvent.id == event_id).values(next_attempt_at=None)
    )
    db.session.commit()


def test_confirming_csam_sends_remove_and_disable_signed_and_verified(platform, receiver):
    case, moderator = _confirm(platform)
    events = _events(case.id)
    assert [e.type for e in events] == ["content.remove", "account.disable"]  # written with the decision
    assert all(e.state == "pending" for e in events)
    for event in events:
        assert delivery.deliver(event.id) == "delivered"
    got = receiver.wait_for(2)
    assert [r.verified_with for r in got] == [[0], [0]]
    assert [r.id for r in got] == [e.message_id for e in events]
    body = got[1].event
    assert body["type"] == "account.disable"
    assert body["data"]["id"] == events[1].message_id
    assert body["data"]["account"]["platform_id"] == case.reported_user.platform_id
    assert body["data"]["decision"] == {
        "verdict": "violation",
        "policy": "CSAM",
        "decided_by": moderator.name,
        "decided_at": body["data"]["decision"]["decided_at"],
        "reason": "seen it",
    }
    assert abs(int(got[0].headers["webhook-timestamp"]) - time.time()) < 30
    events = _events(case.id)
    assert all(e.state == "delivered" and e.attempts == 1 for e in events)
    attempts = db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.event_id == events[0].id)).all()
    assert [(a.status_code, a.error) for a in attempts] == [(200, "")] and '"ok"' in attempts[
        0
    ].response_excerpt
    # The platform acknowledged disabling the account: the CyberTip can say so.
    user = db.session.get(ReportedUser, case.reported_user_id)
    assert user.account_status == "permanent" and user.account_status_at is not None
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)))
    assert "webhook_event_created" in actions  # every event in the audit log; its attempts in their table


def test_the_signature_binds_the_id_the_timestamp_and_the_body(platform, receiver):
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    delivery.deliver(event.id)
    (got,) = receiver.wait_for(1)
    hook = Webhook(SECRET)
    assert hook.verify(got.body, got.headers)["type"] == "content.remove"
    # A second off the signed one (not off "now": on a busy machine the delivery may be a second old already).
    earlier = str(int(got.headers["webhook-timestamp"]) - 1)
    for header, value in (("webhook-id", "msg_other"), ("webhook-timestamp", earlier)):
        with pytest.raises(WebhookVerificationError):
            hook.verify(got.body, {**got.headers, header: value})
    with pytest.raises(WebhookVerificationError):
        hook.verify(got.body.replace(b"content.remove", b"content.restore"), got.headers)
    old = str(int(time.time()) - 600)  # a replay from ten minutes ago: outside the library's tolerance
    with pytest.raises(WebhookVerificationError, match="too old"):
        hook.verify(got.body, {**got.headers, "webhook-timestamp": old})


def test_retries_keep_the_same_webhook_id_with_backoff_and_jitter(platform, receiver, ctx):
    ctx.config.update({"WEBHOOK_RETRY_BASE_SECONDS": 5, "WEBHOOK_RETRY_MAX_SECONDS": 3600})
    receiver.answers = [Answer(500), Answer(503), Answer(429)]
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    delays = []
    for expected_attempt in (1, 2, 3):
        before = utcnow()
        assert delivery.deliver(event.id) == "pending"
        db.session.expire_all()
        row = db.session.get(WebhookEvent, event.id)
        assert row.attempts == expected_attempt
        delays.append((row.next_attempt_at - before).total_seconds())
        assert delivery.deliver(event.id) is None  # not due yet: nobody delivers it early
        _due_now(event.id)
    assert delivery.deliver(event.id) == "delivered"
    got = receiver.wait_for(4)
    assert len(got) == 4 and {r.id for r in got} == {event.message_id}
    # base 5 s doubling: each delay between half and all of 5, 10, 20 s (jitter: not all the same fraction).
    for delay, ceiling in zip(delays, (5, 10, 20), strict=True):
        assert ceiling / 2 - 0.1 <= delay <= ceiling + 0.1
    statuses = db.session.scalars(
        select(WebhookAttempt.status_code)
        .where(WebhookAttempt.event_id == event.id)
        .order_by(WebhookAttempt.id)
    ).all()
    assert statuses == [500, 503, 429, 200]


def test_410_gone_stops_the_event_and_disables_the_endpoint(platform, receiver):
    receiver.answers = [Answer(410)]
    case, _ = _confirm(platform)
    first, second = _events(case.id)
    assert delivery.deliver(first.id) == "stopped"
    endpoint = db.session.get(WebhookEndpoint, platform["endpoint"].id)
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert delivery.deliver(second.id) is None  # held while the endpoint is disabled
    assert len(receiver.received) == 1
    endpoints.set_endpoint_enabled(endpoint.id, True, actor=platform["admin"])
    assert delivery.deliver(second.id) == "delivered"
    assert service.resend(first.id, actor=platform["admin"])
    assert delivery.deliver(first.id) == "delivered"
    assert [r.id for r in receiver.wait_for(3)] == [first.message_id, second.message_id, first.message_id]


def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(platform, receiver, ctx):
    new_secret = endpoints.rotate_secret(platform["endpoint"].id, actor=platform["admin"])
    receiver.secrets = [SECRET, new_secret]
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    delivery.deliver(event.id)
    (got,) = receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert got.verified_with == [0, 1]  # a receiver on either secret accepts it
    endpoint = db.session.get(WebhookEndpoint, platform["endpoint"].id)
    endpoint.previous_secret_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    delivery.deliver(event.id)
    got = receiver.wait_for(2)[1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1 and got.verified_with == [1]


def test_redirects_are_not_followed(platform, receiver):
    receiver.answers = [Answer(302, location=receiver.url + "/elsewhere")]
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    assert delivery.deliver(event.id) == "pending"
    time.sleep(0.3)
    assert len(receiver.received) == 1  # never to the Location
    assert "redirect" in db.session.get(WebhookEvent, event.id).last_error


def test_private_addresses_are_refused_unless_an_admin_allows_the_host(platform, receiver):
    with pytest.raises(endpoints.WebhookError) as refused:
        endpoints.save_endpoint(None, name="Internal", url="https://10.0.0.5/hooks", actor=platform["admin"])
    assert "not a public address" in refused.value.errors["url"]
    with pytest.raises(endpoints.WebhookError) as refused:
        endpoints.save_endpoint(
            None, name="Plain", url="http://platform.example/hooks", actor=platform["admin"]
        )
    assert "https" in refused.value.errors["url"]
    # At connection time too: the socket's peer address, whatever the name resolved to.
    with (
        pytest.raises(requests.ConnectionError, match="not a public address"),
        urlguard.guarded_session() as s,
    ):
        s.post(receiver.url, data=b"{}", timeout=2)
    # The host taken off the allow-list: the stored endpoint is refused at the next delivery.
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    from console.webhooks.models import WebhookAllowedHost

    endpoints.disallow_host(db.session.scalar(select(WebhookAllowedHost.id)), actor=platform["admin"])
    assert delivery.deliver(event.id) == "pending"
    assert receiver.received == []
    assert "a host an admin allowed" in db.session.get(WebhookEvent, event.id).last_error


def test_a_slow_receiver_times_out_and_long_answers_are_cut(platform, receiver, ctx):
    ctx.config["WEBHOOK_TIMEOUT_SECONDS"] = 1.0
    receiver.answers = [Answer(200, delay=3.0), Answer(500, body="x" * 10_000)]
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    assert delivery.deliver(event.id) == "pending"
    assert "no answer within 1 s" in db.session.get(WebhookEvent, event.id).last_error
    _due_now(event.id)
    assert delivery.deliver(event.id) == "pending"
    excerpt = db.session.scalars(
        select(WebhookAttempt.response_excerpt)
        .where(WebhookAttempt.event_id == event.id)
        .order_by(WebhookAttempt.id)
    ).all()[-1]
    assert len(excerpt) == 2048


def test_retries_end_after_the_window_and_a_failing_endpoint_is_disabled(platform, receiver, ctx):
    ctx.config.update({"WEBHOOK_RETRY_HOURS": 1, "WEBHOOK_DISABLE_AFTER_HOURS": 2})
    receiver.answers = [Answer(500)] * 3
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    db.session.get(WebhookEvent, event.id).created_at = utcnow() - timedelta(hours=1, seconds=1)
    db.session.commit()
    assert delivery.deliver(event.id) == "failed"
    endpoint = db.session.get(WebhookEndpoint, platform["endpoint"].id)
    assert endpoint.enabled and endpoint.failing_since is not None
    endpoint.failing_since = utcnow() - timedelta(hours=2, seconds=1)
    db.session.commit()
    case, _ = _confirm(platform, "spam")
    (second,) = _events(case.id)
    assert delivery.deliver(second.id) == "pending"
    endpoint = db.session.get(WebhookEndpoint, platform["endpoint"].id)
    assert not endpoint.enabled and "no delivery for 2 hours" in endpoint.disabled_reason


def test_no_violation_runs_restore_and_a_moderator_may_untick_what_is_skippable(platform, receiver):
    moderator = factories.user()
    case = factories.case(factories.queue())
    cases.decide(case.id, "no_violation", None, moderator)
    assert [e.type for e in _events(case.id)] == ["content.restore"]
    case, _ = _confirm(platform, unticked=[platform["remove"].id, platform["disable"].id])
    # "Remove content" may be unticked; "Disable account permanently" may not.
    assert [e.type for e in _events(case.id)] == ["account.disable"]


def test_the_sweep_enqueues_what_no_worker_delivers(platform, receiver, ctx):
    ctx.config["SWEEP_GRACE_SECONDS"] = 0
    case, _ = _confirm(platform, "spam")
    (event,) = _events(case.id)
    from console import tasks

    assert sweep.sweep() == 0  # its job waits in the queue: late, not lost
    assert [j.args for j in tasks.task_queue().get_jobs()] == [(event.id,)]
    tasks.task_queue().empty()  # the job was lost (Redis restarted)
    time.sleep(0.01)
    assert sweep.sweep() == 1
    assert sweep.sweep() == 0
    assert [j.args for j in tasks.task_queue().get_jobs()] == [(event.id,)]
