"""The bank page's one form: import a hash list."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from console.hashbank.lists import LABEL_MAX
from console.text_rules import PlainName


class ImportForm(FlaskForm):
    label = StringField(
        "Source label",
        validators=[DataRequired("Name where the list comes from."), Length(max=LABEL_MAX), PlainName()],
        description="Where the list comes from, e.g. “NCMEC hash sharing, 2026-11”.",
    )
    hash_list = FileField("Hash list (CSV)", validators=[FileRequired("Choose a CSV file.")])
