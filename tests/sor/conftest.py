"""Fixtures of the statements-of-reasons tests: a stand-in of the Transparency Database, the agency pointed at
it, the demo's platform actions, and an admin's complete mapping for spam."""

from __future__ import annotations

import pytest

from console import demo
from console.cases import service as cases
from console.extensions import db
from console.sor import service
from console.webhooks import endpoints
from dsa_standin import serve_in_thread
from tests import factories

TOKEN = "5|console-test-token"  # noqa: S105 - a test token
PLATFORM = "Test platform"
LOCK_SECONDS = 1.0
FAST = {
    "SOR_LEASE_SECONDS": 3.0,
    # Long enough that the send jobs still queued behind a failed one do not find it due already.
    "SOR_RETRY_BASE_SECONDS": 2.0,
    "SOR_RETRY_MAX_SECONDS": 3.0,
    "SOR_PUID_LOCK_SECONDS": LOCK_SECONDS,
    "SOR_READ_TIMEOUT": 2.0,
}
SPAM_MAPPING = {
    "category": "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "ground": "incompatible",
    "clause": "Terms of service §4.2 (spam)",
    "explanation": "Unsolicited bulk advertising is not allowed on the platform.",
    "content_types": ["CONTENT_TYPE_TEXT"],
    "facts": "The post advertised a product in bulk, unsolicited.",
}
REMOVE_MAPPING = {"visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"]}
DISABLE_MAPPING = {"account": "DECISION_ACCOUNT_TERMINATED"}
EU_USER = {"estimated_location": {"country_code": "FR"}}


@pytest.fixture
def standin():
    server = serve_in_thread({TOKEN: PLATFORM}, lock_seconds=LOCK_SECONDS)
    try:
        yield server
    finally:
        server.shutdown()


def setup_world(ctx, standin, *, mapped: bool = True) -> dict:
    """The platform's actions (no live endpoint needed: events only wait), the agency on at the stand-in."""
    ctx.config.update(FAST)
    admin = factories.user("admin")
    policies = factories.policy_tree()
    endpoints.allow_host("127.0.0.1", "tests", actor=admin)
    endpoint, _ = endpoints.save_endpoint(
        None, name="Platform", url="http://127.0.0.1:9/hook", secret="whsec_" + "A" * 32, actor=admin
    )
    actions = {}
    for name, event_type, verdict, skippable, slugs in demo.DEMO_ACTIONS:
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
    # The platform's side is not under test: its events wait (a disabled endpoint), taking no worker time.
    endpoint.enabled = False
    db.session.commit()
    service.save_environment("sandbox", base_url=standin.base_url, token=TOKEN, actor=admin)
    service.save_agency(enabled=True, environment="sandbox", countries=["FR", "DE"], actor=admin)
    if mapped:
        map_spam(policies, actions, admin)
    return {"admin": admin, "policies": policies, "actions": actions, "queue": factories.queue()}


def map_spam(policies, actions, admin) -> None:
    service.save_policy_mapping(policies["spam"].id, SPAM_MAPPING, actor=admin)
    service.save_action_mapping(actions["content.remove"].id, REMOVE_MAPPING, actor=admin)
    service.save_action_mapping(actions["account.disable"].id, DISABLE_MAPPING, actor=admin)


def eu_case(world, n: int = 0, country: str = "FR", **kwargs):
    return factories.case(
        world["queue"],
        reported_user={
            "platform_id": f"eu-{country}-{n}",
            "name": f"User {n}",
            "details": {"estimated_location": {"country_code": country}},
        },
        **kwargs,
    )


def decide_spam(world, case, moderator=None, unticked=()):
    moderator = moderator or factories.user()
    outcome = cases.decide(case.id, "violation", world["policies"]["spam"].id, moderator, unticked=unticked)
    db.session.rollback()
    return outcome


@pytest.fixture
def world(ctx, standin):
    return setup_world(ctx, standin)
