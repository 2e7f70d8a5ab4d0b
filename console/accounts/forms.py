"""Forms of signing in; every POST goes through a FlaskForm, so every POST checks the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from console.text_rules import PlainText


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), PlainText()])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024), PlainText()])


class ClearThrottleForm(FlaskForm):
    """Settings → Sign-in throttles: let sign-ins through one throttle again."""

    throttle = HiddenField(validators=[DataRequired(), Length(max=1000)])
