"""Forms of the case page; every POST goes through a FlaskForm, so every POST checks the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Email, Length, NumberRange, Optional

from console.ncmec.constants import IDENTIFIER_MAX, NAME_MAX, PHONE_MAX
from console.text_rules import PlainText
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


class LawEnforcementForm(FlaskForm):
    """A law-enforcement request's agency, case number and officer: NCMEC's lawEnforcement (the same bounds
    as the ingestion API's ``law_enforcement``, console/api/case_details.py)."""

    agency_name = StringField(
        "Agency",
        validators=[
            DataRequired("Name the law-enforcement agency."),
            Length(max=IDENTIFIER_MAX),
            PlainText(),
        ],
    )
    case_number = StringField("Case number", validators=[Optional(), Length(max=IDENTIFIER_MAX), PlainText()])
    officer_first_name = StringField(
        "Officer's first name", validators=[Optional(), Length(max=NAME_MAX), PlainText()]
    )
    officer_last_name = StringField(
        "Officer's last name", validators=[Optional(), Length(max=NAME_MAX), PlainText()]
    )
    officer_email = StringField(
        "Officer's email",
        validators=[Optional(), Length(max=254), Email("Give the officer's email address."), PlainText()],
    )
    officer_phone = StringField(
        "Officer's phone", validators=[Optional(), Length(max=PHONE_MAX), PlainText()]
    )
    served_legal_process = BooleanField("Legal process was served (domestic)")

    def fill(self, stored: dict) -> None:
        """Show what the case holds (a GET, or a page opened again)."""
        officer = stored.get("officer") or {}
        self.agency_name.data = stored.get("agency_name", "")
        self.case_number.data = stored.get("case_number", "")
        self.officer_first_name.data = officer.get("first_name", "")
        self.officer_last_name.data = officer.get("last_name", "")
        self.officer_email.data = officer.get("email", "")
        self.officer_phone.data = officer.get("phone", "")
        self.served_legal_process.data = bool(stored.get("served_legal_process"))

    def values(self, stored: dict) -> dict:
        """The request as the case keeps it (the API's shape); what the form does not show is kept."""
        officer = {
            "first_name": (self.officer_first_name.data or "").strip(),
            "last_name": (self.officer_last_name.data or "").strip(),
            "email": (self.officer_email.data or "").strip(),
            "phone": (self.officer_phone.data or "").strip(),
        }
        out = {
            **stored,
            "agency_name": self.agency_name.data.strip(),
            "case_number": (self.case_number.data or "").strip(),
            "officer": {k: v for k, v in officer.items() if v},
            "served_legal_process": bool(self.served_legal_process.data) or None,
        }
        return {k: v for k, v in out.items() if v not in ("", None, {})}
