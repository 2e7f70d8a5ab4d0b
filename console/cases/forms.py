"""Forms of the case page; every POST goes through a FlaskForm, so every POST checks the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional


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
