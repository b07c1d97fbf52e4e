"""Forms of the lead pages: the quote, a chat message, a spam report."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.leads.quotes import MAX_MESSAGE

#: Estimated durations offered in the quote form: (minutes, label).
DURATIONS = [(30, "30 minutes"), (60, "1 hour"), (90, "1½ hours"), (120, "2 hours"), (180, "3 hours"),
             (240, "4 hours"), (360, "6 hours"), (480, "A working day (8 hours)"), (960, "Two days"),
             (2400, "A week of work days")]


class QuoteForm(FlaskForm):
    """A quote: lowest and highest price (decimal, in the business's currency), the estimated
    duration (minutes, one of :data:`DURATIONS`) and a message to the customer."""

    min_price = StringField("Lowest price", validators=[InputRequired("Enter the lowest price.")],
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})
    max_price = StringField("Highest price", validators=[InputRequired("Enter the highest price.")],
                            render_kw={"inputmode": "decimal", "autocomplete": "off"})
    duration_minutes = SelectField("How long the job takes", choices=[SelectChoice(m, label) for m, label in DURATIONS],
                                   coerce=int, default=120)
    message = TextAreaField("Message to the customer", validators=[
        InputRequired("Write the customer a few words about the quote."), Length(max=MAX_MESSAGE)],
        render_kw={"rows": 4, "maxlength": MAX_MESSAGE})


class MessageForm(FlaskForm):
    """A message in the job chat."""

    body = TextAreaField("Message", validators=[InputRequired("Write a message before sending.")],
                         render_kw={"rows": 2, "maxlength": 4000})


class SpamForm(FlaskForm):
    """A spam report with an optional note for the moderators."""

    note = TextAreaField("Note for Plaza's moderators (optional)", validators=[Optional(), Length(max=1000)],
                         render_kw={"rows": 2, "maxlength": 1000})
