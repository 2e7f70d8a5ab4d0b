"""The admins' mapping from the console's words to the Transparency Database's, and its checks.

- A policy → category (+ specifications), ground (illegal: the law and why; incompatible with the terms:
  the clause and why), content types, and the decision's facts as the public database shows them. A sub-policy
  without its own mapping uses its nearest parent's, as it uses its parent's platform actions.
- A platform action (console/webhooks) → what it restricts: visibility, account, provision, monetary. An
  action mapped to none of the four restricts nothing (a notice, a label the service has no word for).
- A case's source kind → source_type (defaults below, the obvious reading; an admin may change them).

`policy_problems` and `action_problems` say what is missing, in words an admin acts on: the settings page
shows them, and a statement that needs an incomplete mapping waits with that reason — never sent incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from console import audit
from console.dsa.constants import (
    Category,
    CategorySpecification,
    ContentType,
    DecisionAccount,
    DecisionMonetary,
    DecisionProvision,
    DecisionVisibility,
    SourceType,
)
from console.extensions import db
from console.policies.service import lineage_ids, policy_tree
from console.queues.models import SOURCE_KINDS
from console.sor.models import SorActionMapping, SorPolicyMapping, SorSourceMapping
from console.timeutil import utcnow
from console.webhooks.models import WebhookAction

GROUNDS = {"illegal": "Illegal content", "incompatible": "Incompatible with the terms and conditions"}
DEFAULT_SOURCES = {
    "user_report": SourceType.ARTICLE_16,
    "trusted_flagger": SourceType.TRUSTED_FLAGGER,
    "lea_request": SourceType.OTHER_NOTIFICATION,
    "proactive": SourceType.VOLUNTARY,
    "ai_review": SourceType.VOLUNTARY,
}
# The strongest of several actions' account and provision restrictions is the one the statement names.
ACCOUNT_ORDER = [DecisionAccount.SUSPENDED, DecisionAccount.TERMINATED]
PROVISION_ORDER = [
    DecisionProvision.PARTIAL_SUSPENSION,
    DecisionProvision.TOTAL_SUSPENSION,
    DecisionProvision.PARTIAL_TERMINATION,
    DecisionProvision.TOTAL_TERMINATION,
]


class MappingError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# --- reading ----------------------------------------------------------------------------------------------


def policy_mapping(policy_id: int) -> SorPolicyMapping | None:
    """The policy's own mapping, else its nearest parent's."""
    lineage = lineage_ids(policy_id)
    rows = {
        m.policy_id: m
        for m in db.session.scalars(select(SorPolicyMapping).where(SorPolicyMapping.policy_id.in_(lineage)))
    }
    for pid in lineage:
        if pid in rows:
            return rows[pid]
    return None


def policy_problems(mapping: SorPolicyMapping | None) -> list[str]:
    if mapping is None:
        return ["no mapping (category, ground, content types, facts)"]
    found = []
    if mapping.category not in set(Category):
        found.append("no category")
    if CategorySpecification.OTHER in mapping.specifications and not mapping.specification_other.strip():
        found.append("the specification “other” needs its words")
    if mapping.ground == "illegal":
        if not mapping.legal_ground.strip():
            found.append("illegal content needs the legal ground")
    elif mapping.ground == "incompatible":
        if not mapping.clause.strip():
            found.append("incompatible content needs the terms' clause")
    else:
        found.append("no decision ground")
    if mapping.ground in GROUNDS and not mapping.explanation.strip():
        found.append("the ground needs its explanation")
    if not mapping.content_types:
        found.append("no content type")
    if ContentType.OTHER in mapping.content_types and not mapping.content_type_other.strip():
        found.append("the content type “other” needs its words")
    if not mapping.facts.strip():
        found.append("no decision facts")
    return found


def action_mapping(action_id: int) -> SorActionMapping | None:
    return db.session.get(SorActionMapping, action_id)


def action_problems(mapping: SorActionMapping | None) -> list[str]:
    if mapping is None:
        return ["not mapped: say what it restricts (or that it restricts nothing)"]
    found = []
    if DecisionVisibility.OTHER in mapping.visibility and not mapping.visibility_other.strip():
        found.append("the visibility restriction “other” needs its words")
    if mapping.monetary == DecisionMonetary.OTHER and not mapping.monetary_other.strip():
        found.append("the monetary restriction “other” needs its words")
    return found


def source_type(source_kind: str) -> SourceType | None:
    row = db.session.get(SorSourceMapping, source_kind)
    if row is not None and row.source_type in set(SourceType):
        return SourceType(row.source_type)
    return DEFAULT_SOURCES.get(source_kind)


@dataclass(frozen=True)
class Restrictions:
    visibility: tuple[DecisionVisibility, ...] = ()
    visibility_other: str | None = None
    account: DecisionAccount | None = None
    provision: DecisionProvision | None = None
    monetary: DecisionMonetary | None = None
    monetary_other: str | None = None

    @property
    def kinds(self) -> list[str]:
        return [k for k in ("visibility", "account", "provision", "monetary") if getattr(self, k)]


def restrictions(mappings: list[SorActionMapping]) -> Restrictions:
    """What several actions restrict together: every visibility restriction, the strongest of the others."""
    visibility = sorted({DecisionVisibility(v) for m in mappings for v in m.visibility})
    accounts = [DecisionAccount(m.account) for m in mappings if m.account]
    provisions = [DecisionProvision(m.provision) for m in mappings if m.provision]
    monetary = next((m for m in mappings if m.monetary), None)
    visibility_other = next((m.visibility_other for m in mappings if m.visibility_other.strip()), None)
    return Restrictions(
        visibility=tuple(visibility),
        visibility_other=visibility_other if DecisionVisibility.OTHER in visibility else None,
        account=max(accounts, key=ACCOUNT_ORDER.index) if accounts else None,
        provision=max(provisions, key=PROVISION_ORDER.index) if provisions else None,
        monetary=DecisionMonetary(monetary.monetary) if monetary else None,
        monetary_other=monetary.monetary_other
        if monetary and monetary.monetary == DecisionMonetary.OTHER
        else None,
    )


def kinds_in(body: dict) -> list[str]:
    """The restrictions a statement's body names: visibility, account, provision, monetary (counted per month
    on the transparency page)."""
    return [
        kind for kind in ("visibility", "account", "provision", "monetary") if body.get(f"decision_{kind}")
    ]


@dataclass(frozen=True)
class PolicyRow:
    policy_id: int
    name: str
    depth: int
    own: SorPolicyMapping | None
    effective: SorPolicyMapping | None
    problems: list[str]


@dataclass(frozen=True)
class ActionRow:
    action: WebhookAction
    mapping: SorActionMapping | None
    problems: list[str]


def overview() -> dict:
    """The mapping page: every policy (with the mapping it uses), every violation action, every source."""
    own = {m.policy_id: m for m in db.session.scalars(select(SorPolicyMapping))}
    policies = []
    for node in policy_tree():
        effective = next((own[pid] for pid in lineage_ids(node.policy.id) if pid in own), None)
        policies.append(
            PolicyRow(
                node.policy.id,
                node.policy.name,
                node.depth,
                own.get(node.policy.id),
                effective,
                policy_problems(effective),
            )
        )
    mapped = {m.action_id: m for m in db.session.scalars(select(SorActionMapping))}
    actions = [
        ActionRow(a, mapped.get(a.id), action_problems(mapped.get(a.id)))
        for a in db.session.scalars(
            select(WebhookAction).where(WebhookAction.verdict == "violation").order_by(WebhookAction.name)
        )
    ]
    sources = {kind: source_type(kind) for kind in SOURCE_KINDS}
    return {
        "policies": policies,
        "actions": actions,
        "sources": sources,
        "incomplete": sum(1 for p in policies if p.problems) + sum(1 for a in actions if a.problems),
    }


# --- changing (each in the caller's transaction; console/sor/service.py commits) ----------------------------


def _choices(values, allowed, field: str, errors: dict) -> list[str]:
    values = [v for v in values if v]
    bad = [v for v in values if v not in set(allowed)]
    if bad:
        errors[field] = f"unknown value {bad[0]!r}"
    return sorted(set(values) - set(bad))


def set_policy_mapping(policy_id: int, form: dict, actor=None) -> SorPolicyMapping:
    """Store a policy's mapping as given (an incomplete one too: the page then says what is missing)."""
    from console.policies.models import Policy

    if db.session.get(Policy, policy_id) is None:
        raise LookupError(f"no policy {policy_id}")
    errors: dict[str, str] = {}
    category = (form.get("category") or "").strip()
    if category and category not in set(Category):
        errors["category"] = f"unknown category {category!r}"
    ground = (form.get("ground") or "").strip()
    if ground and ground not in GROUNDS:
        errors["ground"] = "choose illegal content or incompatible with the terms"
    specifications = _choices(
        form.get("specifications") or [], CategorySpecification, "specifications", errors
    )
    content_types = _choices(form.get("content_types") or [], ContentType, "content_types", errors)
    limits = {
        "legal_ground": 500,
        "clause": 500,
        "explanation": 2000,
        "facts": 5000,
        "specification_other": 500,
        "content_type_other": 500,
    }
    text = {name: (form.get(name) or "").strip() for name in limits}
    for name, limit in limits.items():
        if len(text[name]) > limit:
            errors[name] = f"at most {limit} characters"
    if errors:
        raise MappingError(errors)
    row = db.session.get(SorPolicyMapping, policy_id) or SorPolicyMapping(policy_id=policy_id)
    row.category, row.ground = category, ground
    row.specifications, row.content_types = specifications, content_types
    for name, value in text.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    db.session.add(row)
    db.session.flush()
    audit.record(
        "sor_policy_mapping_saved",
        "policy",
        policy_id,
        actor=actor,
        actor_label="" if actor else "cli",
        category=category,
        ground=ground,
        problems=policy_problems(row),
    )
    return row


def set_action_mapping(action_id: int, form: dict, actor=None) -> SorActionMapping:
    errors: dict[str, str] = {}
    if db.session.get(WebhookAction, action_id) is None:
        raise LookupError(f"no action {action_id}")
    visibility = _choices(form.get("visibility") or [], DecisionVisibility, "visibility", errors)
    one = {}
    for name, enum in (
        ("account", DecisionAccount),
        ("provision", DecisionProvision),
        ("monetary", DecisionMonetary),
    ):
        value = (form.get(name) or "").strip()
        if value and value not in set(enum):
            errors[name] = f"unknown value {value!r}"
        one[name] = value
    others = {name: (form.get(name) or "").strip() for name in ("visibility_other", "monetary_other")}
    for name, value in others.items():
        if len(value) > 500:
            errors[name] = "at most 500 characters"
    if errors:
        raise MappingError(errors)
    row = db.session.get(SorActionMapping, action_id) or SorActionMapping(action_id=action_id)
    row.visibility = visibility
    for name, value in {**one, **others}.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    db.session.add(row)
    db.session.flush()
    audit.record(
        "sor_action_mapping_saved",
        "webhook_action",
        action_id,
        actor=actor,
        actor_label="" if actor else "cli",
        visibility=visibility,
        **one,
    )
    return row


def set_source_mapping(source_kind: str, value: str, actor=None) -> None:
    if source_kind not in SOURCE_KINDS:
        raise MappingError({"source_kind": f"unknown source {source_kind!r}"})
    if value not in set(SourceType):
        raise MappingError({source_kind: f"unknown source type {value!r}"})
    row = db.session.get(SorSourceMapping, source_kind) or SorSourceMapping(source_kind=source_kind)
    row.source_type = value
    db.session.add(row)
    audit.record(
        "sor_source_mapping_saved",
        "sor_source",
        source_kind,
        actor=actor,
        actor_label="" if actor else "cli",
        source_type=value,
    )
