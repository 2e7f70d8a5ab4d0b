"""Forms of the evidence pages; each is a FlaskForm, so every POST checks the CSRF token."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

REASON = [DataRequired(message="Say why."), Length(max=2000)]


class HoldForm(FlaskForm):
    scope = RadioField(
        "Hold",
        choices=[
            SelectChoice("report", "This report's evidence"),
            SelectChoice("user", "Everything of this reported user (also later reports)"),
        ],
        default="report",
    )
    reason = TextAreaField("Reason", validators=REASON)
    reference = StringField(
        "Reference (e.g. the preservation request's number)", validators=[Length(max=200)]
    )
    ends_on = DateField("Held through (optional)", validators=[Optional()])

    def ends_at(self) -> datetime | None:
        """The hold ends when the chosen day (UTC) is over."""
        if not self.ends_on.data:
            return None
        return datetime.combine(self.ends_on.data, time(), tzinfo=UTC) + timedelta(days=1)


class ReleaseForm(FlaskForm):
    reason = TextAreaField("Reason for releasing", validators=REASON)


class PackageForm(FlaskForm):
    reason = TextAreaField("Reason (recorded with your name)", validators=REASON)


class ActionForm(FlaskForm):
    """A button that starts something: only the CSRF token."""
