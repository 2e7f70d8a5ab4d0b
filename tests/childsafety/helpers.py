"""The child-safety world most of these tests start from."""

from __future__ import annotations

from dataclasses import dataclass

from console.childsafety import service as care
from console.extensions import db
from console.policies.models import Policy
from console.queues.models import Queue
from tests import factories


@dataclass
class World:
    policies: dict[str, Policy]
    team_queue: Queue  # marked child-safety: where escalations go
    ordinary: Queue


def child_safety_world() -> World:
    """The policy tree with "Child safety" marked (so CSAM, Grooming, Sextortion too), a marked queue and an
    ordinary one."""
    policies = factories.policy_tree()
    team_queue = factories.queue("Child safety", "user_report")
    ordinary = factories.queue("User reports", "user_report")
    care.mark_policies({policies["child-safety"].id}, actor_label="test")
    care.mark_queues({team_queue.id}, actor_label="test")
    db.session.expire_all()
    return World(policies, team_queue, ordinary)


def reveal_many(user, case, times: int) -> None:
    """`times` recorded reveals of the case's first file by this person (each one counts)."""
    from console.cases import service as cases

    for _ in range(times):
        cases.reveal(case.media[0].id, case.id, user)
