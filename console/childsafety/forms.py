"""Forms of child-safety access and care: shapes (ranges, lengths) here, references in service.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, ValidationError

from console.childsafety.service import url_problem
from console.childsafety.viewing import BLUR_RANGE, REBLUR_MAX_SECONDS, Viewing
from console.text_rules import PlainName, PlainText


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ViewingForm(FlaskForm):
    blur_px = IntegerField(
        "Blur strength (pixels)",
        validators=[
            InputRequired("Choose a blur strength."),
            NumberRange(*BLUR_RANGE, message=f"Choose {BLUR_RANGE[0]} to {BLUR_RANGE[1]} pixels."),
        ],
    )
    grayscale = BooleanField("Grayscale when revealed")
    reblur_seconds = IntegerField(
        "Blur again after (seconds, 0: never)",
        validators=[
            InputRequired("Choose 0 or more seconds."),
            NumberRange(0, REBLUR_MAX_SECONDS, message=f"Choose 0 (never) to {REBLUR_MAX_SECONDS} seconds."),
        ],
    )
    reblur_on_leave = BooleanField("Blur again when the pointer or focus leaves the file")
    video_muted = BooleanField("Video and audio start muted")
    video_paused = BooleanField("Video and audio start paused (no autoplay)")

    def fill(self, current: Viewing) -> None:
        for name, value in current.as_dict().items():
            getattr(self, name).data = value

    def choice(self) -> Viewing:
        return Viewing(
            blur_px=self.blur_px.data,
            grayscale=bool(self.grayscale.data),
            reblur_seconds=self.reblur_seconds.data,
            reblur_on_leave=bool(self.reblur_on_leave.data),
            video_muted=bool(self.video_muted.data),
            video_paused=bool(self.video_paused.data),
        )


class CareForm(ViewingForm):
    """Settings → Moderator care: everyone's defaults, the support link, where escalations go."""

    support_label = StringField("Support resource", validators=[Optional(), Length(max=200), PlainText()])
    support_url = StringField("Its address", validators=[Optional(), Length(max=2000), PlainText()])
    escalation_queue = SelectField("Escalations go to", coerce=_int_or_none, validate_choice=False)

    def validate_support_url(self, field) -> None:
        if problem := url_problem((field.data or "").strip()):
            raise ValidationError(problem)


class MarksForm(FlaskForm):
    """The queues and policies whose cases are child-safety material (checkboxes from the template)."""

    queues = SelectMultipleField("Queues", coerce=_int_or_none, validate_choice=False)
    policies = SelectMultipleField("Policies", coerce=_int_or_none, validate_choice=False)

    def ids(self, field) -> set[int]:
        return {i for i in field.data or [] if i is not None}


class AccessForm(FlaskForm):
    granted = HiddenField(validators=[AnyOf(["0", "1"])])


class TeamForm(FlaskForm):
    team = StringField(
        "Team",
        validators=[
            Optional(),
            Length(max=80, message="Name the team in at most 80 characters."),
            PlainName(),
        ],
    )


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (reset my preferences)."""
