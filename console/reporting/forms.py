"""Forms of external reporting; every POST goes through a FlaskForm, so every POST checks the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from console.ncmec import IncidentType, IndustryClassification

INCIDENT_CHOICES = [SelectChoice(t.value, t.label) for t in IncidentType]
CLASSIFICATION_CHOICES = [SelectChoice("", "Not classified")] + [
    SelectChoice(c.value, f"{c.value} — {c.description}") for c in IndustryClassification
]


class ReportForm(FlaskForm):
    """The "Report to NCMEC" dialog. Per-file classification fields are added by `report_form(media)`."""

    incident_type = RadioField(
        "Incident type",
        choices=INCIDENT_CHOICES,
        validators=[InputRequired(message="Choose the incident type that describes what was found.")],
    )

    def classification_field(self, media_id: int):
        return self[f"classification_{media_id}"]

    def classifications(self, media_ids: list[int]) -> dict[int, str]:
        return {mid: self.classification_field(mid).data or "" for mid in media_ids}


def report_form(media_ids: list[int], *, incident_type: str | None = None, **kwargs) -> ReportForm:
    """A ReportForm with one optional "Industry classification" select per media file of the case."""

    class CaseReportForm(ReportForm):
        pass

    for media_id in media_ids:
        setattr(
            CaseReportForm,
            f"classification_{media_id}",
            SelectField("Industry classification", choices=CLASSIFICATION_CHOICES, default=""),
        )
    form = CaseReportForm(**kwargs)
    if incident_type and not form.is_submitted():
        form.incident_type.data = incident_type
    return form


class ActionForm(FlaskForm):
    """A button that changes something (Retry): only the CSRF token."""


class RetractForm(FlaskForm):
    reason = TextAreaField(
        "Reason for retracting",
        validators=[DataRequired(message="Say why the report is retracted."), Length(max=2000)],
    )
