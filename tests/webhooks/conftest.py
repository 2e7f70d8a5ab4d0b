"""Fixtures of the webhooks tests: a receiver that verifies with `standardwebhooks`, and an admin's setup."""

from __future__ import annotations

import pytest

from console.extensions import db
from console.webhooks import endpoints
from tests import factories
from tests.webhooks.receiver import Receiver

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 - a test secret
FAST = {"WEBHOOK_RETRY_BASE_SECONDS": 0.2, "WEBHOOK_RETRY_MAX_SECONDS": 1.0, "WEBHOOK_TIMEOUT_SECONDS": 2.0}


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
    remove = endpoints.save_action(
        None,
        name="Remove content",
        event_type="content.remove",
        endpoint_id=endpoint.id,
        verdict="violation",
        enabled=True,
        skippable=True,
        policy_ids=[policies["child-safety"].id, policies["spam"].id],
        actor=admin,
    )
    disable = endpoints.save_action(
        None,
        name="Disable account permanently",
        event_type="account.disable",
        endpoint_id=endpoint.id,
        verdict="violation",
        enabled=True,
        skippable=False,
        policy_ids=[policies["child-safety"].id],
        actor=admin,
    )
    restore = endpoints.save_action(
        None,
        name="Restore",
        event_type="content.restore",
        endpoint_id=endpoint.id,
        verdict="no_violation",
        enabled=True,
        skippable=True,
        policy_ids=[],
        actor=admin,
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
