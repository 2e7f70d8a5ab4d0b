"""The signed-in user comes from a short-lived copy in Redis (console/accounts/signed_in.py), yet every change
to the user — a permission granted or revoked, a role, a deactivation, a sign-out anywhere — takes effect on
the very next request. Each test warms the copy first, so that a stale copy would show."""

from __future__ import annotations

from contextlib import contextmanager

import redis
from sqlalchemy import event, select

from console.accounts import service as accounts
from console.accounts import signed_in
from console.accounts.models import User
from console.childsafety import service as care
from console.extensions import db
from tests import factories
from tests.conftest import csrf_from
from tests.security.helpers import sign_in

# Each request gets its own application context (no `ctx`): one browser's user must not reach the next
# request through `g` or a shared session.


@contextmanager
def statements(app):
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def reads_user_row(seen: list[str]) -> bool:
    return any("FROM users" in s and "users.session_version" in s for s in seen)


def _world(app, *, child_safety: bool = True):
    with app.app_context():
        mod = factories.user("moderator", email="m@example.org", child_safety=child_safety)
        admin = factories.user("admin", email="a@example.org")
        marked = factories.queue("Child safety escalations")
        marked.child_safety = True
        db.session.commit()
        return mod.id, admin.id, marked.id


def test_a_page_reads_no_user_row_once_the_copy_is_held_and_a_write_reads_it(app, client, auth):
    _world(app)
    auth.login("m@example.org")
    client.get("/queues")  # the first request after sign-in makes the copy
    with statements(app) as seen:
        assert client.get("/queues").status_code == 200
    assert seen and not reads_user_row(seen), seen
    token = csrf_from(client.get("/queues").text)
    with statements(app) as seen:
        client.post("/me/viewing/reset", data={"csrf_token": token})
    assert reads_user_row(seen), "a write is authorised by the row, not by the copy"


def test_revoking_the_permission_applies_on_the_next_request(app, client, auth):
    mod_id, _admin_id, marked_id = _world(app)
    auth.login("m@example.org")
    assert client.get(f"/queues/{marked_id}").status_code == 200
    assert client.get(f"/queues/{marked_id}").status_code == 200  # from the copy

    with app.app_context():
        care.set_access(mod_id, False, actor_label="test")

    assert client.get(f"/queues/{marked_id}").status_code == 403
    assert "Child safety escalations" not in client.get("/queues").text


def test_granting_the_permission_on_the_admins_page_applies_on_the_next_request(app, client, auth):
    mod_id, _admin_id, marked_id = _world(app, child_safety=False)
    moderator = app.test_client()
    sign_in(moderator, "m@example.org", factories.PASSWORD)
    assert moderator.get(f"/queues/{marked_id}").status_code == 403
    assert moderator.get(f"/queues/{marked_id}").status_code == 403  # from the copy

    auth.login("a@example.org")
    done = auth.post(f"/settings/child-safety/users/{mod_id}/access", {"granted": "1"})
    assert done.status_code == 302

    assert moderator.get(f"/queues/{marked_id}").status_code == 200


def test_a_role_changed_in_the_database_applies_on_the_next_request_with_its_navigation(app, client, auth):
    mod_id, _admin_id, _marked = _world(app)
    auth.login("m@example.org")
    page = client.get("/queues").text
    assert ">Settings</a>" not in page.split("</nav>")[0]
    assert client.get("/settings/child-safety").status_code == 403

    with app.app_context():
        db.session.get(User, mod_id).role = "admin"
        db.session.commit()

    page = client.get("/queues").text
    assert ">Settings</a>" in page.split("</nav>")[0]
    assert client.get("/settings/child-safety").status_code == 200


def test_signing_out_ends_the_other_sessions_on_their_next_request(app, client, auth):
    _world(app)
    laptop = app.test_client()
    sign_in(laptop, "m@example.org", factories.PASSWORD)
    auth.login("m@example.org")
    for _ in range(2):  # both copies warm
        assert laptop.get("/queues").status_code == 200
        assert client.get("/queues").status_code == 200

    assert auth.post("/logout").status_code == 302

    gone = laptop.get("/queues")
    assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert client.get("/queues").status_code == 302


def test_deactivation_from_the_shell_applies_on_the_next_request(app, client, auth, runner):
    _world(app)
    auth.login("m@example.org")
    assert client.get("/queues").status_code == 200
    assert client.get("/queues").status_code == 200

    result = runner.invoke(args=["accounts", "deactivate", "m@example.org"])
    assert result.exit_code == 0, result.output

    assert client.get("/queues").status_code == 302


def test_a_copy_made_from_a_row_read_before_a_change_is_never_used(app, client, auth):
    """The race a plain delete-on-change would lose: a request reads the row, the change commits and
    invalidates, then that request writes its (old) copy. The copy carries the generation read before the
    row, so it is stale from the moment it is written."""
    mod_id, _admin_id, marked_id = _world(app)
    auth.login("m@example.org")
    client.get("/queues")
    with app.test_request_context("/queues"):
        copy_key, user_gen, all_gen = signed_in._keys(app, mod_id)
        conn = signed_in.tasks.redis_connection(app)
        before = conn.get(copy_key)
        assert before is not None
        care.set_access(mod_id, False, actor_label="test")  # commits, then bumps the generation
        conn.set(copy_key, before)  # the slow request's old copy lands after the invalidation
    assert client.get(f"/queues/{marked_id}").status_code == 403


def test_without_redis_the_row_is_read_and_changes_still_apply(app, client, auth):
    mod_id, _admin_id, marked_id = _world(app)
    auth.login("m@example.org")
    assert client.get(f"/queues/{marked_id}").status_code == 200
    # A Redis nobody answers on (port 1): every lookup fails fast and falls back to the row.
    app.extensions["console_redis"] = redis.Redis(port=1, socket_connect_timeout=0.2)
    with statements(app) as seen:
        assert client.get(f"/queues/{marked_id}").status_code == 200
    assert reads_user_row(seen)
    with app.app_context():
        care.set_access(mod_id, False, actor_label="test")
    assert client.get(f"/queues/{marked_id}").status_code == 403


def test_the_navigation_is_built_once_per_copy(app, client, auth, monkeypatch):
    mod_id, _admin_id, _marked = _world(app)
    from console import security

    built = []
    real = security.navigation
    monkeypatch.setattr(security, "navigation", lambda user: built.append(user.id) or real(user))
    auth.login("m@example.org")
    for _ in range(3):
        assert "Assigned to me" in client.get("/queues").text
    assert built == [mod_id]
    with app.app_context():
        accounts.set_active(mod_id, True, actor_label="test")  # no change: nothing to rebuild
        care.set_team(mod_id, "Night shift", actor_label="test")  # a change to the user: a new copy
        assert db.session.scalar(select(User.team).where(User.id == mod_id)) == "Night shift"
    client.get("/queues")
    assert built == [mod_id, mod_id]
