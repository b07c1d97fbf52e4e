"""Forms of the broadcast wizard (the domain validates the values: its errors go beside the field)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AudienceForm(FlaskForm):
    """Step 1: businesses (by plan, country, category) or customers (by city, business)."""

    kind = RadioField(_l("Send to"), choices=[SelectChoice("businesses", _l("Businesses (their owners)")),
                                          SelectChoice("customers", _l("Customers who accept marketing from Plaza"))],
                      default="businesses")
    plan = SelectField(_l("Plan"), choices=[SelectChoice("", _l("Any plan")), SelectChoice("free", _l("Free")), SelectChoice("pro", "Pro"),
                                         SelectChoice("premium", "Premium")],
                       default="")
    country = StringField(_l("Country (two letters, e.g. DK)"), filters=[_strip])
    category = SelectField(_l("Category"), choices=[SelectChoice("", _l("Any category"))], default="", validate_choice=False)
    city = StringField(_l("City of the business they booked with"), filters=[_strip])
    business = StringField(_l("Business (its address name, e.g. bella)"), filters=[_strip])


class MessageForm(FlaskForm):
    """Step 2: subject, body and channels (checkboxes named ``channels``, read by the view)."""

    subject = StringField(_l("Subject"), filters=[_strip])
    body = TextAreaField(_l("Message"))


class ScheduleForm(FlaskForm):
    """Step 3: now, or a time in UTC (``YYYY-MM-DDTHH:MM``, as a datetime-local input sends it)."""

    when = RadioField(_l("When"), choices=[SelectChoice("now", _l("Send now")), SelectChoice("later", _l("At a time (UTC)"))], default="now")
    send_at = StringField(_l("Time (UTC)"), filters=[_strip])
