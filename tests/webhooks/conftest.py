"""Fixtures of the webhooks tests: a receiver that verifies with `standardwebhooks`, and an admin's setup."""

from __future__ import annotations

import pytest

from console import demo
from console.extensions import db
from console.webhooks import endpoints
from tests import factories
from tests.webhooks.receiver import Receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a test secret
# One event per claim unless a test is about batches (tests/webhooks/test_batches.py): these tests call one
# event's delivery and look at that event alone.
FAST = {
    "WEBHOOK_RETRY_BASE_SECONDS": 0.2,
    "WEBHOOK_RETRY_MAX_SECONDS": 1.0,
    "WEBHOOK_TIMEOUT_SECONDS": 2.0,
    "WEBHOOK_BATCH": 1,
}


@pytest.fixture
def receiver():
    r = Receiver([SECRET]).start()
    yield r
    r.stop()


@pytest.fixture
def platform(ctx, receiver):
    """An admin's setup: the receiver's host allowed, its endpoint, the demo's three actions and defaults."""
    return setup_platform(ctx, receiver, factories.policy_tree())


@pytest.fixture
def filing_platform(ctx, receiver, ncmec_simulator):
    """The same, beside NCMEC connected to the simulator and a rule on Child safety that asks the platform
    for enrichment and preservation."""
    from tests.reporting.conftest import FAST as FILING_FAST
    from tests.reporting.helpers import reporting_setup

    ctx.config.update(FILING_FAST)
    policies, review, rule = reporting_setup(ncmec_simulator)
    setup = setup_platform(ctx, receiver, policies)
    return {**setup, "review": review, "rule": rule}


def setup_platform(ctx, receiver, policies) -> dict:
    ctx.config.update(FAST)
    admin = factories.user("admin")
    endpoints.allow_host("127.0.0.1", "the test receiver", actor=admin)
    endpoint, _ = endpoints.save_endpoint(None, name="Platform", url=receiver.url, secret=SECRET, actor=admin)
    actions = {}
    for name, event_type, verdict, skippable, slugs in demo.DEMO_ACTIONS:  # the demo's three actions
        actions[event_type] = endpoints.save_action(
            None,
            name=name,
            event_type=event_type,
            endpoint_id=endpoint.id,
            verdict=verdict,
            enabled=True,
            skippable=skippable,
            policy_ids=[policies[slug].id for slug in slugs],
            actor=admin,
        )
    remove, disable, restore = (
        actions["content.remove"],
        actions["account.disable"],
        actions["content.restore"],
    )
    db.session.commit()
    return {
        "admin": admin,
        "endpoint": endpoint,
        "policies": policies,
        "remove": remove,
        "disable": disable,
        "restore": restore,
    }
