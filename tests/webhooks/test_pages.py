"""Settings → Platform webhooks as admins use it, and the decision form's actions as moderators see them."""

from __future__ import annotations

import re

from sqlalchemy import select

from console.extensions import db
from console.webhooks import delivery
from console.webhooks.models import WebhookEndpoint, WebhookEvent
from tests import factories
from tests.webhooks.receiver import Answer


def test_an_admin_adds_an_endpoint_and_sees_its_secret_once(ctx, client, auth, receiver):
    factories.user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    page = auth.post(
        "/settings/webhooks/endpoints/new", {"name": "Platform", "url": receiver.url, "enabled": "y"}
    )
    assert page.status_code == 422 and "plain http only for a host an admin allowed" in page.text
    auth.post("/settings/webhooks/hosts", {"host": "127.0.0.1", "note": "the demo platform"})
    page = auth.post(
        "/settings/webhooks/endpoints/new", {"name": "Platform", "url": receiver.url, "enabled": "y"}
    )
    assert page.status_code == 200 and "shown this once" in page.text
    secret = re.search(r'<code id="new-secret">(whsec_[^<]+)</code>', page.text).group(1)
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert secret.encode() not in (endpoint.secret_encrypted or b"")  # encrypted at rest
    edit = client.get(f"/settings/webhooks/endpoints/{endpoint.id}").text
    assert secret not in edit and "stored — leave empty to keep it" in edit  # write-only
    index = client.get("/settings/webhooks").text
    assert secret not in index and "Platform" in index and "127.0.0.1" in index


def test_the_decision_form_shows_the_actions_and_a_moderator_unticks_one(platform, client, auth, receiver):
    moderator = factories.user(email="mod@example.org")
    case = factories.case(factories.queue(), policy=platform["policies"]["csam"])
    auth.login(moderator.email)
    page = client.get(f"/cases/{case.id}").text
    assert "Remove content" in page and "Disable account permanently" in page and "Restore" in page
    fragment = client.get(
        f"/cases/{case.id}/platform-actions?policy={platform['policies']['harassment'].id}"
    ).text
    assert "Remove content" not in fragment and "Restore" in fragment  # harassment has no default action
    response = auth.post(
        f"/cases/{case.id}/decision",
        {
            "verdict": "violation",
            "policy": platform["policies"]["csam"].id,
            "offered_action": [str(platform["remove"].id), str(platform["restore"].id)],
            "run_action": [str(platform["restore"].id)],  # "Remove content" unticked
        },
        token_from=f"/cases/{case.id}",
    )
    assert response.status_code == 200
    events = db.session.scalars(select(WebhookEvent).where(WebhookEvent.case_id == case.id)).all()
    assert [e.type for e in events] == ["account.disable"]
    page = client.get(f"/cases/{case.id}").text
    assert "On the platform" in page and "account.disable" in page


def test_deliveries_pages_show_every_attempt_and_resend_a_failed_event(platform, client, auth, receiver, ctx):
    from console.cases import service as cases

    ctx.config["WEBHOOK_RETRY_HOURS"] = 0  # the first failure ends the retries
    receiver.answers = [Answer(500, body='{"error": "down for maintenance"}')]
    moderator = factories.user()
    case = factories.case(factories.queue(), policy=platform["policies"]["spam"])
    cases.decide(case.id, "violation", platform["policies"]["spam"].id, moderator)
    event = db.session.scalar(select(WebhookEvent).where(WebhookEvent.case_id == case.id))
    assert delivery.deliver(event.id) == "failed"
    auth.login(platform["admin"].email)
    page = client.get(f"/settings/webhooks/endpoints/{platform['endpoint'].id}/deliveries").text
    assert event.message_id in page and "down for maintenance" in page and "Resend" in page
    case_page = client.get(f"/cases/{case.id}/deliveries").text
    assert event.message_id in case_page and "500" in case_page
    auth.post(f"/settings/webhooks/events/{event.id}/resend", token_from=f"/cases/{case.id}/deliveries")
    db.session.expire_all()
    assert db.session.get(WebhookEvent, event.id).state == "pending"
    assert delivery.deliver(event.id) == "delivered"
    assert {r.id for r in receiver.received} == {event.message_id}


def test_the_cli_lists_resends_and_disables(platform, runner, receiver):
    from console.cases import service as cases

    case = factories.case(factories.queue(), policy=platform["policies"]["spam"])
    cases.decide(case.id, "violation", platform["policies"]["spam"].id, factories.user())
    listed = runner.invoke(args=["webhooks", "list"])
    assert "content.remove\tpending" in listed.output
    assert runner.invoke(args=["webhooks", "disable", "Platform"]).exit_code == 0
    assert not db.session.get(WebhookEndpoint, platform["endpoint"].id).enabled
    assert "not failed or stopped" in runner.invoke(args=["webhooks", "resend", "1"]).output
    assert runner.invoke(args=["webhooks", "enable", "Platform"]).exit_code == 0
    assert "re-encrypted 1 signing secret" in runner.invoke(args=["webhooks", "rotate-key"]).output


def test_metrics_and_the_admins_banner_show_what_waits_and_what_is_disabled(
    platform, client, auth, receiver, ctx
):
    from console.cases import service as cases

    ctx.config["WEBHOOK_ALERT_MINUTES"] = 0
    receiver.answers = [Answer(410)]
    case = factories.case(factories.queue(), policy=platform["policies"]["csam"])
    cases.decide(case.id, "violation", platform["policies"]["csam"].id, factories.user())
    first = db.session.scalars(select(WebhookEvent).where(WebhookEvent.case_id == case.id)).first()
    assert delivery.deliver(first.id) == "stopped"
    metrics = client.get("/metrics").text
    assert 'console_webhook_events{state="stopped"} 1.0' in metrics
    assert 'console_webhook_events{state="pending"} 1.0' in metrics
    assert "console_webhook_endpoints_disabled 1.0" in metrics
    age = float(re.search(r"^console_webhook_oldest_undelivered_seconds (\S+)$", metrics, re.M).group(1))
    assert age > 0
    auth.login(platform["admin"].email)
    banner = client.get("/ops/banner").text
    assert "Platform endpoint “Platform” is disabled" in banner and "410 Gone" in banner
    assert "has waited" in banner
