"""Forms of the lead pages: the quote, a chat message, a spam report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.leads.quotes import MAX_MESSAGE

#: Estimated durations offered in the quote form: (minutes, label).
DURATIONS = [(30, _l("30 minutes")), (60, _l("1 hour")), (90, _l("1½ hours")), (120, _l("2 hours")),
             (180, _l("3 hours")), (240, _l("4 hours")), (360, _l("6 hours")), (480, _l("A working day (8 hours)")),
             (960, _l("Two days")), (2400, _l("A week of work days"))]


class QuoteForm(FlaskForm):
    """A quote: lowest and highest price (decimal, in the business's currency), the estimated
    duration (minutes, one of :data:`DURATIONS`) and a message to the customer."""

    min_price = StringField(_l("Lowest price"), validators=[InputRequired(_l("Enter the lowest price."))],
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})
    max_price = StringField(_l("Highest price"), validators=[InputRequired(_l("Enter the highest price."))],
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})
    duration_minutes = SelectField(_l("How long the job takes"), choices=[SelectChoice(m, label) for m, label in DURATIONS],
                                   coerce=int, default=120)
    message = TextAreaField(_l("Message to the customer"), validators=[
        InputRequired(_l("Write the customer a few words about the quote.")), Length(max=MAX_MESSAGE)],
        render_kw={"rows": 4, "maxlength": MAX_MESSAGE})


class MessageForm(FlaskForm):
    """A message in the job chat."""

    body = TextAreaField(_l("Message"), validators=[InputRequired(_l("Write a message before sending."))],
                         render_kw={"rows": 2, "maxlength": 4000})


class SpamForm(FlaskForm):
    """A spam report with an optional note for the moderators."""

    note = TextAreaField(_l("Note for Plaza's moderators (optional)"), validators=[Optional(), Length(max=1000)],
                         render_kw={"rows": 2, "maxlength": 1000})
