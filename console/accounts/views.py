from __future__ import annotations

import sys

import click
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from console.accounts import service, throttle
from console.accounts.forms import ClearThrottleForm, LoginForm
from console.security import public, role_required, safe_next

bp = Blueprint("accounts", __name__)
bp.cli.help = "Console accounts: passwords and deactivation."


def _new_session() -> None:
    session.clear()
    # Flask-WTF caches the token for the request (in `g`): without this the page would carry the old one.
    g.pop("csrf_token", None)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("queues.index"))
    form = LoginForm()
    if form.validate_on_submit():
        device = request.cookies.get(throttle.DEVICE_COOKIE)
        if not throttle.attempt_allowed(form.email.data, request.remote_addr, device):
            abort(429)
        user = service.authenticate(form.email.data, form.password.data)
        if user:
            throttle.signed_in(form.email.data, request.remote_addr, device)
            # A new session for the signed-in user: nothing from before sign-in carries over, and the CSRF
            # token changes, so a token seen on the sign-in page is worth nothing afterwards.
            _new_session()
            login_user(user)
            response = redirect(safe_next(request.args.get("next")))
            # This browser is now a trusted device for the account: strangers' failures never throttle it.
            response.set_cookie(
                throttle.DEVICE_COOKIE,
                throttle.renewed_cookie(device, form.email.data),
                max_age=throttle.DEVICE_DAYS * 86400,
                path=url_for("accounts.login"),
                secure=current_app.config["SESSION_COOKIE_SECURE"],
                httponly=True,
                samesite="Strict",
            )
            return response
        form.password.errors.append("Wrong email or password.")
        return render_template("accounts/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@role_required("moderator")
def logout():
    service.sign_out(current_user)
    logout_user()
    _new_session()
    flash("You are signed out.")
    return redirect(url_for("accounts.login"))


# --- Settings → Sign-in throttles (admins) ------------------------------------------------------------------


@bp.route("/settings/sign-in-throttles")
@role_required("admin")
def throttles():
    """The sign-in throttles in force: who is held back, from where, until when; each can be cleared."""
    return render_template(
        "accounts/throttles.html",
        found=throttle.in_force(),
        emails=throttle.account_emails(),
        kinds=throttle.KINDS,
        form=ClearThrottleForm(formdata=None),
    )


@bp.route("/settings/sign-in-throttles/clear", methods=["POST"])
@role_required("admin")
def clear_throttle():
    form = ClearThrottleForm()
    if not form.validate_on_submit():
        abort(400)
    cleared = throttle.clear(form.throttle.data, actor=current_user)
    if cleared is None:
        abort(404)
    flash(f"Sign-in throttle cleared: {throttle.KINDS[cleared.kind]}.")
    return redirect(url_for("accounts.throttles"))


# --- `flask accounts …` for operators ----------------------------------------------------------------------


def _user_or_fail(email: str):
    user = service.find_user(email)
    if user is None:
        raise click.ClickException(f"no account {email}")
    return user


@bp.cli.command("set-password")
@click.argument("email")
def set_password_command(email: str) -> None:
    """Set EMAIL's password (read from standard input); every session of that account ends."""
    user = _user_or_fail(email)
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        service.change_password(user.id, password, actor_label="cli")
    except ValueError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"password changed for {user.email}; every session of it has ended")


@bp.cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Deactivate EMAIL: it cannot sign in, and every session of it ends at once."""
    user = service.set_active(_user_or_fail(email).id, False, actor_label="cli")
    click.echo(f"{user.email} is deactivated; every session of it has ended")


@bp.cli.command("activate")
@click.argument("email")
def activate_command(email: str) -> None:
    """Allow EMAIL to sign in again."""
    user = service.set_active(_user_or_fail(email).id, True, actor_label="cli")
    click.echo(f"{user.email} can sign in again")
