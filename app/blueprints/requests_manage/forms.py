"""Forms of the customer's request pages (Flask-WTF, CSRF on)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class RejectForm(FlaskForm):
    """Turn an offer down, optionally saying why (up to 500 characters)."""

    reason = TextAreaField(_l("Why not? (optional)"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """Confirm a quote at a start time: ``start`` is an RFC 3339 instant from the offered list."""

    start = StringField(_l("Start"), validators=[DataRequired(message=_l("Pick a time first."))])


class MessageForm(FlaskForm):
    """A message to the provider in the job's chat (1–4000 characters)."""

    body = TextAreaField(_l("Message"), validators=[DataRequired(message=_l("Write a message before sending.")),
                                                 Length(max=4000)])
