"""Operators configure NCMEC from the shell: `flask ncmec …`."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

from console.audit import AuditEvent
from console.extensions import db
from console.reporting import agencies, credentials
from console.reporting.models import ReportingRule
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


def test_rules_create_adds_a_rule_as_the_settings_page_would(ctx, runner):
    _admin, policies, ai_queue, _other = admin_world()
    result = runner.invoke(
        args=[
            "ncmec",
            "rules",
            "create",
            "NCMEC — CSAM auto report",
            "--policy",
            "child-safety",
            "--review-queue",
            ai_queue.name,  # a name works as well as a slug
            "--contact-first-name",
            "Rita",
            "--contact-last-name",
            "Reporter",
            "--contact-email",
            "rita@example.org",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "created rule 'NCMEC — CSAM auto report' (enabled)" in result.output
    db.session.expire_all()
    [rule] = db.session.scalars(select(ReportingRule)).all()
    assert rule.enabled and [p.slug for p in rule.policies] == ["child-safety"]
    assert rule.review_queue_id == ai_queue.id and rule.agency_id == agencies.ncmec().id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reporting_rule_created"))
    assert event.who == "cli" and event.details["after"]["policies"] == ["Child safety"]

    listed = runner.invoke(args=["ncmec", "rules"])
    assert listed.output.startswith("NCMEC — CSAM auto report\tenabled\tpolicies: Child safety")


def test_rules_create_paused_and_warns_about_a_conflict(ctx, runner):
    _admin, policies, ai_queue, _other = admin_world()
    make_rule(policies, ai_queue)
    queue = ["--review-queue", ai_queue.slug]
    contact = ["--contact-first-name", "G", "--contact-last-name", "R", "--contact-email", "g@example.org"]

    result = runner.invoke(
        args=["ncmec", "rules", "create", "Grooming rule", "--policy", "Grooming", *queue, *contact]
    )
    assert result.exit_code == 0, result.output
    assert "warning: Grooming is also covered by NCMEC — CSAM auto report" in result.output

    paused = runner.invoke(
        args=["ncmec", "rules", "create", "Spam rule", "--policy", "spam", *queue, *contact, "--paused"]
    )
    assert paused.exit_code == 0 and "(paused)" in paused.output
    assert not db.session.scalar(select(ReportingRule).where(ReportingRule.name == "Spam rule")).enabled


def test_rules_create_refuses_what_the_settings_page_refuses(ctx, runner):
    _admin, policies, ai_queue, _other = admin_world()
    make_rule(policies, ai_queue)
    base = ["ncmec", "rules", "create"]
    contact = ["--contact-first-name", "G", "--contact-last-name", "R", "--contact-email", "g@example.org"]

    unknown = runner.invoke(args=[*base, "X", "--policy", "nope", "--review-queue", ai_queue.slug, *contact])
    assert (
        unknown.exit_code == 2 and "no policy 'nope'" in unknown.output and "child-safety" in unknown.output
    )

    no_queue = runner.invoke(args=[*base, "X", "--policy", "csam", "--review-queue", "nope", *contact])
    assert no_queue.exit_code == 2 and "no queue 'nope'" in no_queue.output

    taken = runner.invoke(
        args=[
            *base,
            "ncmec — csam AUTO report",
            "--policy",
            "spam",
            "--review-queue",
            ai_queue.slug,
            *contact,
        ]
    )
    assert taken.exit_code == 1 and "NAME: A rule named" in taken.output

    bad_email = contact[:-1] + ["not-an-email"]
    invalid = runner.invoke(
        args=[*base, "Y", "--policy", "spam", "--review-queue", ai_queue.slug, *bad_email]
    )
    assert invalid.exit_code == 1 and "--contact-email: Enter a valid email address." in invalid.output
    assert db.session.scalar(select(func.count(ReportingRule.id))) == 1


def test_rules_disable_and_enable_by_name(ctx, runner):
    _admin, policies, ai_queue, _other = admin_world()
    rule_id = make_rule(policies, ai_queue).id

    result = runner.invoke(args=["ncmec", "rules", "disable", "ncmec — CSAM auto report"])
    assert result.exit_code == 0 and "paused rule 'NCMEC — CSAM auto report'" in result.output
    db.session.expire_all()
    assert not db.session.get(ReportingRule, rule_id).enabled
    assert runner.invoke(args=["ncmec", "rules"]).output.startswith("NCMEC — CSAM auto report\tpaused")

    result = runner.invoke(args=["ncmec", "rules", "enable", "NCMEC — CSAM auto report"])
    assert result.exit_code == 0 and "enabled rule" in result.output
    db.session.expire_all()
    assert db.session.get(ReportingRule, rule_id).enabled
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "reporting_rule").order_by(AuditEvent.id)
    ).all()
    assert actions[-2:] == ["reporting_rule_paused", "reporting_rule_enabled"]

    missing = runner.invoke(args=["ncmec", "rules", "enable", "No such rule"])
    assert missing.exit_code == 1 and "no reporting rule named 'No such rule'" in missing.output


def test_rules_gathering_window_from_the_shell(ctx, runner):
    _admin, policies, ai_queue, _other = admin_world()
    args = [
        "ncmec",
        "rules",
        "create",
        "Windowed",
        "--policy",
        "child-safety",
        "--review-queue",
        ai_queue.slug,
    ]
    args += ["--contact-first-name", "Rita", "--contact-last-name", "R", "--contact-email", "r@example.org"]
    result = runner.invoke(args=[*args, "--bundle-window", "20"])
    assert result.exit_code == 0, result.output
    rule = db.session.scalar(select(ReportingRule))
    assert rule.bundle_window_minutes == 20
    assert "one report per user within: 20 min" in runner.invoke(args=["ncmec", "rules"]).output
    result = runner.invoke(args=["ncmec", "rules", "bundle-window", "Windowed", "off"])
    assert result.exit_code == 0 and "window off" in result.output
    db.session.expire_all()
    assert db.session.get(ReportingRule, rule.id).bundle_window_minutes is None
    assert runner.invoke(args=["ncmec", "rules", "bundle-window", "Windowed", "soon"]).exit_code != 0
    assert runner.invoke(args=["ncmec", "rules", "bundle-window", "Windowed", "5000"]).exit_code != 0
    result = runner.invoke(args=["ncmec", "rules", "bundle-window", "Windowed", "45"])
    assert "within 45 minutes are one report" in result.output
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "reporting_rule_changed").order_by(AuditEvent.id.desc())
    )
    assert event.who == "cli" and event.details["after"] == {"bundle_window_minutes": 45}
