import os
import subprocess
import sys

import argon2

from console.accounts.models import User
from console.accounts.service import authenticate
from console.extensions import db
from tests import factories
from tests.conftest import PRODUCTION_PASSWORD_HASHER, ROOT


def test_sign_in_and_out(ctx, client, auth):
    mod = factories.user("moderator", email="mod@example.org", name="Mo")
    response = auth.login("mod@example.org")
    assert response.status_code == 302
    page = client.get("/queues")
    assert page.status_code == 200 and "Mo · moderator" in page.text
    response = auth.post("/logout")
    assert response.status_code == 302
    assert client.get("/queues").status_code == 302  # back to the sign-in page
    assert mod.id


def test_wrong_password_does_not_tell_whether_the_account_exists(ctx, client, auth):
    factories.user("moderator", email="real@example.org")
    wrong = auth.login("real@example.org", "not-the-password")
    unknown = auth.login("nobody@example.org", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text


def test_passwords_are_hashed_with_argon2(ctx):
    factories.user("moderator", email="hash@example.org")
    stored = db.session.scalar(db.select(User.password_hash).where(User.email == "hash@example.org"))
    assert stored.startswith("$argon2id$") and factories.PASSWORD not in stored


def test_the_console_hashes_passwords_at_owasps_argon2id_cost(ctx):
    """The suite hashes cheaply (tests/conftest.py); the console's own hasher meets OWASP's minimum for
    argon2id (19 MiB and 2 passes), and what it hashes is verified by the same code."""
    stored = PRODUCTION_PASSWORD_HASHER.hash(factories.PASSWORD)
    parameters = argon2.extract_parameters(stored)
    assert parameters.type is argon2.Type.ID
    assert parameters.memory_cost >= 19 * 1024 and parameters.time_cost >= 2
    mod = factories.user("moderator", email="strong@example.org")
    mod.password_hash = stored
    db.session.commit()
    assert authenticate("strong@example.org", factories.PASSWORD).id == mod.id


def test_repeated_failures_are_rate_limited_but_success_is_not_counted(ctx, app, client, auth):
    # Signed in once, this browser holds a device cookie: its own failures are what count for it.
    app.config["LOGIN_DEVICE_RATE_LIMIT"] = "3 per minute"
    factories.user("moderator", email="target@example.org")
    assert auth.login("target@example.org").status_code == 302
    auth.post("/logout")
    statuses = [auth.login("target@example.org", "bad-password").status_code for _ in range(4)]
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3] == 429
    # While its window is full, even the right password waits.
    assert auth.login("target@example.org").status_code == 429


def test_signed_out_users_are_sent_to_sign_in(client):
    response = client.get("/queues")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_next_parameter_cannot_redirect_off_site(ctx, client):
    factories.user("moderator", email="n@example.org")
    page = client.get("/login?next=//evil.example/")
    from tests.conftest import csrf_from

    response = client.post(
        "/login?next=//evil.example/",
        data={"email": "n@example.org", "password": factories.PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/queues"


def test_malformed_login_form_shows_the_form_with_errors(client):
    from tests.conftest import csrf_from

    page = client.get("/login")
    response = client.post(
        "/login", data={"email": "x" * 400, "password": "", "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 400
    assert 'id="email"' in response.text and "This field is required." in response.text


def test_starting_a_process_hashes_no_password(tmp_path):
    """Every worker and `flask` command imports the password module: no hash until a sign-in needs one."""
    probe = (
        "import argon2\n"
        "hashed = []\n"
        "real = argon2.PasswordHasher.hash\n"
        "argon2.PasswordHasher.hash = lambda self, *a, **k: hashed.append(1) or real(self, *a, **k)\n"
        "import wsgi\n"
        "print(len(hashed))\n"
    )
    env = {**os.environ, "CONSOLE_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0"]
