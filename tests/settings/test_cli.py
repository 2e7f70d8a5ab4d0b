"""Operators configure NCMEC from the shell: `flask ncmec …`."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import select, text

from console.audit import AuditEvent
from console.extensions import db
from console.reporting import agencies, credentials
from tests.settings.helpers import SECRET, admin_world, connect, make_rule


def test_configure_reads_the_password_from_stdin(ctx, runner, ncmec_simulator):
    result = runner.invoke(
        args=[
            "ncmec",
            "configure",
            "--environment",
            "custom",
            "--base-url",
            ncmec_simulator.base_url,
            "--username",
            ncmec_simulator.username,
        ],
        input=ncmec_simulator.password + "\n",
    )
    assert result.exit_code == 0, result.output
    assert ncmec_simulator.password not in result.output
    db.session.expire_all()
    agency = agencies.ncmec()
    assert agency.environment == "custom" and agency.username == ncmec_simulator.username
    assert credentials.decrypt(agency.password_encrypted) == ncmec_simulator.password
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "agency_configured"))
    assert event.who == "cli"

    result = runner.invoke(args=["ncmec", "test-connection"])
    assert result.exit_code == 0 and result.output.startswith("Connected")


def test_configure_refuses_a_custom_environment_without_url(ctx, runner):
    result = runner.invoke(
        args=["ncmec", "configure", "--environment", "custom", "--username", "u"], input="pw\n"
    )
    assert result.exit_code != 0 and "base URL" in result.output
    assert not agencies.is_configured(agencies.ncmec())


def test_test_connection_fails_with_wrong_credentials(ctx, runner, ncmec_simulator):
    connect(ncmec_simulator.base_url, ncmec_simulator.username, "wrong")
    result = runner.invoke(args=["ncmec", "test-connection"])
    assert result.exit_code == 1 and result.output.startswith("Wrong credentials")


def test_rules_lists_name_state_policies_queue_and_contact(ctx, runner):
    _admin, policies, ai_queue, _other = admin_world()
    connect("http://127.0.0.1:9", "esp-user", SECRET)
    make_rule(policies, ai_queue)
    make_rule(policies, ai_queue, name="Spam rule", policy="spam", enabled=False)
    result = runner.invoke(args=["ncmec", "rules"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("NCMEC — CSAM auto report\tenabled\tpolicies: Child safety")
    assert ai_queue.name in lines[0] and "Rita Reporter <rita@example.org>" in lines[0]
    assert lines[1].startswith("Spam rule\tpaused")
    assert SECRET not in result.output


def test_rotate_key_re_encrypts_under_the_newest_key(app, ctx, runner):
    connect("http://127.0.0.1:9", "esp-user", SECRET)
    old_key = app.config["CREDENTIALS_KEYS"]
    before = db.session.execute(
        text("SELECT password_encrypted FROM agencies WHERE slug='ncmec'")
    ).scalar_one()
    new_key = Fernet.generate_key().decode()
    app.config["CREDENTIALS_KEYS"] = f"{new_key},{old_key}"

    result = runner.invoke(args=["ncmec", "rotate-key"])
    assert result.exit_code == 0 and "re-encrypted 1 stored password" in result.output
    db.session.expire_all()
    after = db.session.execute(
        text("SELECT password_encrypted FROM agencies WHERE slug='ncmec'")
    ).scalar_one()
    assert bytes(after) != bytes(before)
    app.config["CREDENTIALS_KEYS"] = new_key  # the old key can go now
    assert credentials.decrypt(after) == SECRET
