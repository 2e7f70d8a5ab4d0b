from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from console import audit
from console.accounts import service
from console.extensions import db, limiter
from console.security import public, role_required

bp = Blueprint("accounts", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _failed(response) -> bool:
    # Only failed attempts count against the limits: a moderator signing in and out is never locked out.
    return response.status_code != 302


def _account_key() -> str:
    return "login-account:" + (request.form.get("email") or "").strip().lower()[:254]


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("queues.index")


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: _login_limit(), methods=["POST"], deduct_when=_failed)
@limiter.limit(lambda: _login_limit(), methods=["POST"], key_func=_account_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("queues.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = service.authenticate(form.email.data, form.password.data)
        if user:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Wrong email or password.")
        return render_template("accounts/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/logout", methods=["POST"])
@role_required("moderator")
@login_required
def logout():
    audit.record("signed_out", "user", current_user.id, actor=current_user)
    db.session.commit()
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("accounts.login"))
