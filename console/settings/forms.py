"""Forms of the settings area.

They check shape (required, length, email); the settings service checks references (a name that is taken, a
queue or policy that does not exist), and the view puts both kinds of error on the fields.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError

from console.cases.kinds import CONTENT_KINDS
from console.ncmec import ReportAnnotation
from console.ncmec.constants import DESCRIPTION_MAX, NAME_MAX, PHONE_MAX
from console.reporting.agencies import CUSTOM_URL_MAX
from console.settings.cybertip_details import ReporterDetails
from console.settings.service import BUNDLE_WINDOW_MAX, ENVIRONMENTS, RuleFields, SettingsError
from console.text_rules import PlainName, PlainText


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AgencyConnectionForm(FlaskForm):
    environment = SelectField("Environment", choices=[SelectChoice(k, v) for k, v in ENVIRONMENTS.items()])
    custom_base_url = StringField(
        "Custom base URL", validators=[Optional(), Length(max=CUSTOM_URL_MAX), PlainText()]
    )
    username = StringField(
        "ESP username",
        validators=[DataRequired("Enter the ESP username."), Length(max=200), PlainText()],
    )
    # Write-only: PasswordField never renders a value, not even the one just submitted.
    password = PasswordField("Password", validators=[Optional(), Length(max=1024), PlainText()])


class RuleForm(FlaskForm):
    name = StringField(
        "Rule name", validators=[DataRequired("Enter a rule name."), Length(max=200), PlainName()]
    )
    agency = SelectField("Agency", coerce=_int_or_none, validate_choice=False)
    # Checkboxes rendered from the policy tree by the template; existence is checked by the service.
    policies = SelectMultipleField("Policies", coerce=int, validate_choice=False)
    review_queue = SelectField("Review queue", coerce=_int_or_none, validate_choice=False)
    # NCMEC's documented limit for the reporting person's names (NAME_MAX), checked here rather than when a
    # report is sent weeks later.
    contact_first_name = StringField(
        "First name",
        validators=[DataRequired("Enter the contact's first name."), Length(max=NAME_MAX), PlainText()],
    )
    contact_last_name = StringField(
        "Last name",
        validators=[DataRequired("Enter the contact's last name."), Length(max=NAME_MAX), PlainText()],
    )
    contact_email = StringField(
        "Email",
        validators=[
            DataRequired("Enter the contact's email."),
            PlainText(),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )
    contact_phone = StringField("Phone", validators=[Optional(), Length(max=PHONE_MAX), PlainText()])
    # Escalation to high priority, asked for automatically; the reason is sent as NCMEC's escalation text.
    escalate_min_confidence = DecimalField(
        "AI cases at or above this confidence (%)",
        places=None,
        validators=[Optional(), NumberRange(min=0, max=100, message="Enter a percentage from 0 to 100.")],
    )
    escalation_policies = SelectMultipleField("Cases confirmed as", coerce=int, validate_choice=False)
    escalation_reason = TextAreaField(
        "Reason sent to NCMEC",
        validators=[Optional(), Length(max=DESCRIPTION_MAX), PlainText(multiline=True)],
    )
    # One report per incident: the AI-confirmed contents of one user within this many minutes (off: empty).
    bundle_window_minutes = IntegerField(
        "Gather one user's AI-confirmed contents for (minutes)",
        validators=[
            Optional(),
            NumberRange(min=1, max=BUNDLE_WINDOW_MAX, message=f"Enter 1 to {BUNDLE_WINDOW_MAX} minutes."),
        ],
    )
    enabled = BooleanField("Enabled", default=True)

    def validate_policies(self, field) -> None:
        if not field.data:
            raise ValidationError("Choose at least one policy.")

    def to_fields(self) -> RuleFields:
        return RuleFields(
            name=self.name.data or "",
            agency_id=self.agency.data,
            policy_ids=list(self.policies.data or []),
            review_queue_id=self.review_queue.data,
            contact_first_name=self.contact_first_name.data or "",
            contact_last_name=self.contact_last_name.data or "",
            contact_email=self.contact_email.data or "",
            contact_phone=self.contact_phone.data or "",
            escalate_min_confidence=float(self.escalate_min_confidence.data) / 100
            if self.escalate_min_confidence.data is not None
            else None,
            escalation_policy_ids=tuple(self.escalation_policies.data or ()),
            escalation_reason=self.escalation_reason.data or "",
            bundle_window_minutes=self.bundle_window_minutes.data or None,
        )


class ReporterDetailsForm(FlaskForm):
    """Settings → CyberTip details: the company's legal details and the law-enforcement contact."""

    company_template = TextAreaField(
        "Company details (NCMEC's company template)",
        validators=[Optional(), Length(max=20_000), PlainText(multiline=True)],
    )
    terms_of_service = TextAreaField(
        "Terms of service (the relevant part)",
        validators=[Optional(), Length(max=20_000), PlainText(multiline=True)],
    )
    legal_url = StringField("Legal URL", validators=[Optional(), Length(max=2083), PlainText()])
    le_contact_first_name = StringField(
        "First name", validators=[Optional(), Length(max=NAME_MAX), PlainText()]
    )
    le_contact_last_name = StringField(
        "Last name", validators=[Optional(), Length(max=NAME_MAX), PlainText()]
    )
    le_contact_email = StringField(
        "Email", validators=[Optional(), PlainText(), Email("Enter a valid email address."), Length(max=254)]
    )
    le_contact_phone = StringField("Phone", validators=[Optional(), Length(max=PHONE_MAX), PlainText()])

    def to_details(self) -> ReporterDetails:
        return ReporterDetails(
            **{name: getattr(self, name).data or "" for name in ReporterDetails.__dataclass_fields__}
        )


class ContentTypeForm(FlaskForm):
    platform_type = StringField(
        "The platform's content type",
        validators=[
            DataRequired("Enter the platform's name for the content type."),
            Length(max=100),
            PlainText(),
        ],
    )
    kind = SelectField("Content kind", choices=[SelectChoice(k, v) for k, v in CONTENT_KINDS.items()])


class PolicyAnnotationsForm(FlaskForm):
    """One policy's report annotations (checkboxes named ``annotations``)."""

    annotations = SelectMultipleField(
        "Report annotations", choices=[SelectChoice(a.value, a.value) for a in ReportAnnotation]
    )


class TokenForm(FlaskForm):
    """Settings → API tokens: a new token, named for the system that will use it."""

    name = StringField(
        "Name",
        validators=[DataRequired(message="Name the system that will use it."), Length(max=120), PlainName()],
    )


def add_service_errors(form: FlaskForm, error: SettingsError) -> None:
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is None:
            form.form_errors.append(message)
        elif message not in field.errors:
            field.errors = [*field.errors, message]
