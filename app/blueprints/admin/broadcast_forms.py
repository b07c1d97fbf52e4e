"""Forms of the broadcast wizard (the domain validates the values: its errors go beside the field)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AudienceForm(FlaskForm):
    """Step 1: businesses (by plan, country, category) or customers (by city, business)."""

    kind = RadioField("Send to", choices=[SelectChoice("businesses", "Businesses (their owners)"),
                                          SelectChoice("customers", "Customers who accept marketing from Plaza")],
                      default="businesses")
    plan = SelectField("Plan", choices=[SelectChoice("", "Any plan"), SelectChoice("free", "Free"), SelectChoice("pro", "Pro"),
                                         SelectChoice("premium", "Premium")],
                       default="")
    country = StringField("Country (two letters, e.g. DK)", filters=[_strip])
    category = SelectField("Category", choices=[SelectChoice("", "Any category")], default="", validate_choice=False)
    city = StringField("City of the business they booked with", filters=[_strip])
    business = StringField("Business (its address name, e.g. bella)", filters=[_strip])


class MessageForm(FlaskForm):
    """Step 2: subject, body and channels (checkboxes named ``channels``, read by the view)."""

    subject = StringField("Subject", filters=[_strip])
    body = TextAreaField("Message")


class ScheduleForm(FlaskForm):
    """Step 3: now, or a time in UTC (``YYYY-MM-DDTHH:MM``, as a datetime-local input sends it)."""

    when = RadioField("When", choices=[SelectChoice("now", "Send now"), SelectChoice("later", "At a time (UTC)")], default="now")
    send_at = StringField("Time (UTC)", filters=[_strip])
