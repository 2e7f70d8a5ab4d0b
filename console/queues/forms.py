"""The queue's settings form (admins): its SLA target and the order it hands cases out in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange

from console.queues.models import REVIEW_ORDERS

# A year: beyond that an SLA says nothing.
MAX_SLA_HOURS = 24 * 365


class QueueSettingsForm(FlaskForm):
    sla_hours = IntegerField(
        "SLA target (hours from the report)",
        validators=[InputRequired("Give the SLA in hours."), NumberRange(min=1, max=MAX_SLA_HOURS)],
    )
    review_order = SelectField("Order", choices=[SelectChoice(k, v) for k, v in REVIEW_ORDERS.items()])
