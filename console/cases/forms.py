"""Forms of the case page; every POST goes through a FlaskForm, so every POST checks the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional

from console.webutil import ID_MAX


class DecisionForm(FlaskForm):
    verdict = HiddenField(validators=[AnyOf(["violation", "no_violation"], message="Choose a decision.")])
    policy = SelectField("Policy", coerce=int, validators=[Optional()])
    note = TextAreaField("Note", validators=[Length(max=2000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.verdict.data == "violation" and not self.policy.data:
            self.policy.errors = [*self.policy.errors, "Choose the policy that was violated."]
            ok = False
        return ok


class ClaimForm(FlaskForm):
    """Taking, renewing or giving back a claim: the page's token, and the draft note it saves."""

    token = HiddenField(validators=[Optional(), Length(max=32)])
    note = TextAreaField(validators=[Optional(), Length(max=2000)])


class NextCaseForm(FlaskForm):
    """ "Start reviewing" / "Next case": the case being left, if any (the next one comes after it)."""

    after = IntegerField(validators=[Optional(), NumberRange(min=1, max=ID_MAX)])


class EscalateForm(FlaskForm):
    to_queue = SelectField("To queue", coerce=int, validators=[Optional()])
    to_user = SelectField("To a colleague", coerce=int, validators=[Optional()])
    note = TextAreaField("Why", validators=[DataRequired("Say why you escalate."), Length(max=2000)])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not (self.to_queue.data or self.to_user.data):
            self.to_queue.errors = [*self.to_queue.errors, "Choose another queue or a colleague."]
            ok = False
        return ok
