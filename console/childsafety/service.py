"""What changes child-safety access and care: the permission, teams, the marks, defaults, one's preferences.

Each function takes plain arguments, does its work in one transaction, writes the audit event (except a
moderator's own viewing choices, which are theirs) and commits. A refusal raises CareError, field by field.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update

from console import audit, tasks
from console.accounts.models import User
from console.childsafety import viewing
from console.childsafety.models import CareSettings, ViewingPreference
from console.extensions import db
from console.policies.models import Policy
from console.queues.models import Queue
from console.text_rules import name_problem, text_problem
from console.timeutil import utcnow

TEAM_MAX = 80


class CareError(ValueError):
    """A change was refused; ``errors`` maps a form field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user {user_id}")
    return user


def set_access(user_id: int, granted: bool, *, actor=None, actor_label: str = "") -> User:
    """Grant or revoke the child-safety permission; it applies from the person's next request."""
    user = _user(user_id)
    if user.child_safety_access != granted:
        user.child_safety_access = granted
        audit.record(
            "child_safety_granted" if granted else "child_safety_revoked",
            "user",
            user.id,
            actor=actor,
            actor_label=actor_label,
            email=user.email,
        )
    tasks.commit_then_enqueue()
    return user


def set_team(user_id: int, team: str, *, actor=None, actor_label: str = "") -> User:
    team = " ".join((team or "").split())
    if len(team) > TEAM_MAX or name_problem(team):
        raise CareError({"team": f"Name the team on one line, at most {TEAM_MAX} characters."})
    user = _user(user_id)
    if user.team != team:
        audit.record(
            "user_team_set", "user", user.id, actor=actor, actor_label=actor_label, team=team, was=user.team
        )
        user.team = team
    tasks.commit_then_enqueue()
    return user


def _mark(model, ids: set[int], what: str, *, actor, actor_label: str) -> list[str]:
    """Mark exactly these rows child-safety (and unmark the others); the audit names what changed."""
    known = dict(db.session.execute(select(model.id, model.name)).all())
    unknown = ids - known.keys()
    if unknown:
        raise CareError({what: f"No such {what[:-1]}: {', '.join(map(str, sorted(unknown)))}."})
    before = set(db.session.scalars(select(model.id).where(model.child_safety.is_(True))))
    if before != ids:
        db.session.execute(update(model).values(child_safety=model.id.in_(ids) if ids else False))
        audit.record(
            f"child_safety_{what}_marked",
            what[:-1],
            "",
            actor=actor,
            actor_label=actor_label,
            marked=sorted(known[i] for i in ids - before),
            unmarked=sorted(known[i] for i in before - ids),
        )
    tasks.commit_then_enqueue()
    return sorted(known[i] for i in ids)


def mark_queues(queue_ids: set[int], *, actor=None, actor_label: str = "") -> list[str]:
    return _mark(Queue, set(queue_ids), "queues", actor=actor, actor_label=actor_label)


def mark_policies(policy_ids: set[int], *, actor=None, actor_label: str = "") -> list[str]:
    """Mark policies child-safety: each covers every sub-policy below it, now and later."""
    return _mark(Policy, set(policy_ids), "policies", actor=actor, actor_label=actor_label)


# --- viewing ------------------------------------------------------------------------------------------------


def _checked(choice: viewing.Viewing) -> viewing.Viewing:
    errors = {}
    low, high = viewing.BLUR_RANGE
    if not low <= choice.blur_px <= high:
        errors["blur_px"] = f"Choose a blur between {low} and {high} pixels."
    if not 0 <= choice.reblur_seconds <= viewing.REBLUR_MAX_SECONDS:
        errors["reblur_seconds"] = f"Choose 0 (never) to {viewing.REBLUR_MAX_SECONDS} seconds."
    if errors:
        raise CareError(errors)
    return choice


def save_preferences(user_id: int, choice: viewing.Viewing) -> viewing.Viewing:
    """A moderator's own viewing choices (theirs alone: not audited)."""
    _checked(choice)
    row = db.session.scalar(select(ViewingPreference).where(ViewingPreference.user_id == user_id))
    if row is None:
        row = ViewingPreference(user_id=user_id)
        db.session.add(row)
    for name, value in choice.as_dict().items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    tasks.commit_then_enqueue()
    return choice


def reset_preferences(user_id: int) -> None:
    """Back to the admins' defaults (and to whatever they change them to later)."""
    db.session.execute(ViewingPreference.__table__.delete().where(ViewingPreference.user_id == user_id))
    tasks.commit_then_enqueue()


@dataclass(frozen=True)
class CareFields:
    """What admins set for everyone on Settings → Child safety."""

    defaults: viewing.Viewing
    support_url: str = ""
    support_label: str = ""
    escalation_queue_id: int | None = None


def url_problem(url: str) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or text_problem(url) or len(url) > 2000:
        return "Enter an http(s) address, e.g. https://intranet.example/wellbeing."
    return None


def save_care_settings(fields: CareFields, *, actor=None, actor_label: str = "") -> CareSettings:
    errors = {}
    try:
        _checked(fields.defaults)
    except CareError as e:
        errors.update(e.errors)
    url = (fields.support_url or "").strip()
    label = " ".join((fields.support_label or "").split())
    if problem := url_problem(url):
        errors["support_url"] = problem
    if len(label) > 200 or text_problem(label):
        errors["support_label"] = "Name the resource on one line, at most 200 characters."
    queue = db.session.get(Queue, fields.escalation_queue_id) if fields.escalation_queue_id else None
    if fields.escalation_queue_id and (queue is None or not queue.child_safety):
        errors["escalation_queue"] = "Choose a queue marked child-safety."
    if errors:
        raise CareError(errors)
    row = db.session.scalar(select(CareSettings).order_by(CareSettings.id).limit(1))
    if row is None:
        row = CareSettings()
        db.session.add(row)
    for name, value in fields.defaults.as_dict().items():
        setattr(row, name, value)
    row.support_url, row.support_label = url, label
    row.escalation_queue_id = queue.id if queue else None
    row.updated_at = utcnow()
    audit.record(
        "care_settings_saved",
        "care_settings",
        "",
        actor=actor,
        actor_label=actor_label,
        support_url=url,
        escalation_queue=queue.name if queue else None,
        **fields.defaults.as_dict(),
    )
    tasks.commit_then_enqueue()
    return row
