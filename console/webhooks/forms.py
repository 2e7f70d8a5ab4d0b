"""Forms of Settings → Platform webhooks. They check shape; console/webhooks/endpoints.py checks the rest."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from console.webhooks.endpoints import URL_MAX
from console.webhooks.models import ACTION_TYPES, VERDICTS


class EndpointForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=100)])
    url = StringField("URL", validators=[DataRequired("Enter the URL."), Length(max=URL_MAX)])
    # Write-only: never filled in from the stored one. Empty: keep it (a new endpoint: one is made).
    secret = PasswordField("Signing secret", validators=[Optional(), Length(max=200)])
    enabled = BooleanField("Enabled", default=True)


class ActionForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=100)])
    event_type = SelectField(
        "Asks the platform to", choices=[SelectChoice(k, v[0]) for k, v in ACTION_TYPES.items()]
    )
    endpoint = SelectField("Sent to", coerce=int, validators=[DataRequired("Choose an endpoint.")])
    verdict = SelectField("Runs on", choices=[SelectChoice(k, v) for k, v in VERDICTS.items()])
    policies = SelectMultipleField("Default for the policies (and their sub-policies)", coerce=int)
    enabled = BooleanField("Enabled", default=True)
    skippable = BooleanField("A moderator may untick it on the decision form")


class HostForm(FlaskForm):
    host = StringField("Host", validators=[DataRequired("Enter a host."), Length(max=253)])
    note = StringField("Why", validators=[Optional(), Length(max=200)])


class PostForm(FlaskForm):
    """A button's POST (Resend, enable, disable, rotate, remove): the CSRF token only."""
