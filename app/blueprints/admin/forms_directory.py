"""Forms of the console's directory and moderation pages (the domain checks the rest and its
errors go beside the field)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.admin.models import BAN, SUSPEND, WARN


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class SanctionForm(FlaskForm):
    """Suspend, ban or warn: the kind, the reason the subject is told, and an optional end (UTC)."""

    kind = SelectField("Action", choices=[SelectChoice(SUSPEND, "Suspend"), SelectChoice(BAN, "Ban"),
                                                SelectChoice(WARN, "Warn")], default=SUSPEND)
    reason = TextAreaField("Reason (they are told it)", filters=[_strip], validators=[
        InputRequired("Give a reason: they are told it."), Length(max=1000, message="Use at most 1,000 characters.")])
    ends_at = DateTimeLocalField("Ends (UTC, leave empty for until reinstated)", format="%Y-%m-%dT%H:%M",
                                 validators=[Optional()])


class ReasonForm(FlaskForm):
    """Reinstate (or any action that only needs a reason)."""

    reason = StringField("Reason for reinstating", filters=[_strip], validators=[
        InputRequired("Give a reason."), Length(max=1000, message="Use at most 1,000 characters.")])


class ModerationForm(FlaskForm):
    """The platform's decision on a reported piece of content: the action and a note for the log."""

    action = SelectField("Decision", choices=[SelectChoice(v, label) for v, label in (
        ("hide", "Hide"), ("restore", "Restore"), ("warn", "Warn the author"), ("suspend", "Suspend the author"),
        ("dismiss", "Dismiss the reports"))])
    reason = StringField("Reason", filters=[_strip], validators=[
        InputRequired("Give a reason."), Length(max=1000, message="Use at most 1,000 characters.")])
