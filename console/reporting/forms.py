"""Forms of external reporting; every POST goes through a FlaskForm, so every POST checks the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from console.ncmec import FileAnnotation, IncidentType, IndustryClassification, ReportAnnotation
from console.ncmec.constants import DESCRIPTION_MAX
from console.reporting.details import Choices
from console.text_rules import PlainText

INCIDENT_CHOICES = [SelectChoice(t.value, t.label) for t in IncidentType]
CLASSIFICATION_CHOICES = [SelectChoice("", "Not classified")] + [
    SelectChoice(c.value, f"{c.value} — {c.description}") for c in IndustryClassification
]
# NCMEC's flags in words a moderator reads (the values are the XSD's element names).
REPORT_ANNOTATION_LABELS = {
    ReportAnnotation.SEXTORTION: "Sextortion",
    ReportAnnotation.CSAM_SOLICITATION: "CSAM solicitation",
    ReportAnnotation.MINOR_TO_MINOR_INTERACTION: "Minor-to-minor interaction",
    ReportAnnotation.SPAM: "Spam",
    ReportAnnotation.SADISTIC_ONLINE_EXPLOITATION: "Sadistic online exploitation",
}
FILE_ANNOTATION_LABELS = {
    FileAnnotation.ANIME_DRAWING_VIRTUAL_HENTAI: "Anime, drawing, virtual or hentai",
    FileAnnotation.POTENTIAL_MEME: "Potential meme",
    FileAnnotation.VIRAL: "Viral",
    FileAnnotation.POSSIBLE_SELF_PRODUCTION: "Possible self-production",
    FileAnnotation.PHYSICAL_HARM: "Physical harm",
    FileAnnotation.VIOLENCE_GORE: "Violence or gore",
    FileAnnotation.BESTIALITY: "Bestiality",
    FileAnnotation.LIVE_STREAMING: "Live streaming",
    FileAnnotation.INFANT: "Infant",
    FileAnnotation.GENERATIVE_AI: "Generative AI",
}
REPORT_ANNOTATION_CHOICES = [SelectChoice(a.value, label) for a, label in REPORT_ANNOTATION_LABELS.items()]
FILE_ANNOTATION_CHOICES = [SelectChoice(a.value, label) for a, label in FILE_ANNOTATION_LABELS.items()]


class ReportForm(FlaskForm):
    """The "Report to NCMEC" dialog; report_form adds the per-file fields (classification, annotations)."""

    incident_type = RadioField(
        "Incident type",
        choices=INCIDENT_CHOICES,
        validators=[InputRequired(message="Choose the incident type that describes what was found.")],
    )
    escalate = BooleanField("Escalate to high priority")
    escalation_reason = TextAreaField(
        "Why it is urgent",
        validators=[
            Length(max=DESCRIPTION_MAX, message=f"Say why in at most {DESCRIPTION_MAX} characters."),
            PlainText(multiline=True),
        ],
    )
    report_annotations = SelectMultipleField("Report annotations", choices=REPORT_ANNOTATION_CHOICES)

    def validate_escalation_reason(self, field) -> None:
        if self.escalate.data and not (field.data or "").strip():
            raise ValidationError("Say why the report is urgent: NCMEC needs the reason to escalate it.")

    def classification_field(self, media_id: int):
        return self[f"classification_{media_id}"]

    def file_annotations_field(self, media_id: int):
        return self[f"file_annotations_{media_id}"]

    def classifications(self, media_ids: list[int]) -> dict[int, str]:
        return {mid: self.classification_field(mid).data or "" for mid in media_ids}

    def choices(self, media_ids: list[int]) -> Choices:
        """What the moderator chose, for filing.create_report and the preview.

        Only values the form offers: a refused form is previewed again without what it refused.
        """
        classes = {c.value for c in IndustryClassification}
        report_flags, file_flags = {a.value for a in ReportAnnotation}, {a.value for a in FileAnnotation}
        return Choices(
            escalate=(self.escalation_reason.data or "").strip() if self.escalate.data else None,
            report_annotations=tuple(a for a in self.report_annotations.data or () if a in report_flags),
            classifications={m: c for m, c in self.classifications(media_ids).items() if c in classes},
            file_annotations={
                m: tuple(a for a in self.file_annotations_field(m).data or () if a in file_flags)
                for m in media_ids
            },
        )


def report_form(
    media_ids: list[int],
    *,
    incident_type: str | None = None,
    defaults: Choices | None = None,
    **kwargs,
) -> ReportForm:
    """A ReportForm with, per media file of the case, an optional industry classification and annotations.

    ``defaults`` (the rule's escalation, the policy's annotations) fill a form that was not submitted.
    """

    class CaseReportForm(ReportForm):
        pass

    for media_id in media_ids:
        setattr(
            CaseReportForm,
            f"classification_{media_id}",
            SelectField("Industry classification", choices=CLASSIFICATION_CHOICES, default=""),
        )
        setattr(
            CaseReportForm,
            f"file_annotations_{media_id}",
            SelectMultipleField("File annotations", choices=FILE_ANNOTATION_CHOICES, default=[]),
        )
    form = CaseReportForm(**kwargs)
    if not form.is_submitted() and kwargs.get("formdata") is None:
        if incident_type:
            form.incident_type.data = incident_type
        if defaults is not None:
            form.escalate.data = defaults.escalate is not None
            form.escalation_reason.data = defaults.escalate or ""
            form.report_annotations.data = list(defaults.report_annotations)
    return form


class ActionForm(FlaskForm):
    """A button that changes something (Retry): only the CSRF token."""


class RetractForm(FlaskForm):
    reason = TextAreaField(
        "Reason for retracting",
        validators=[DataRequired(message="Say why the report is retracted."), Length(max=2000)],
    )
