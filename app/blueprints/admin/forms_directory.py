"""Forms of the console's directory and moderation pages (the domain checks the rest and its
errors go beside the field)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.admin.models import BAN, SUSPEND, WARN


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class SanctionForm(FlaskForm):
    """Suspend, ban or warn: the kind, the reason the subject is told, and an optional end (UTC)."""

    kind = SelectField(_l("Action"), choices=[SelectChoice(SUSPEND, _l("Suspend")), SelectChoice(BAN, _l("Ban")),
                                                SelectChoice(WARN, _l("Warn"))], default=SUSPEND)
    reason = TextAreaField(_l("Reason (they are told it)"), filters=[_strip], validators=[
        InputRequired(_l("Give a reason: they are told it.")), Length(max=1000, message=_l("Use at most 1,000 characters."))])
    ends_at = DateTimeLocalField(_l("Ends (UTC, leave empty for until reinstated)"), format="%Y-%m-%dT%H:%M",
                                 validators=[Optional()])


class ReasonForm(FlaskForm):
    """Reinstate (or any action that only needs a reason)."""

    reason = StringField(_l("Reason for reinstating"), filters=[_strip], validators=[
        InputRequired(_l("Give a reason.")), Length(max=1000, message=_l("Use at most 1,000 characters."))])


class ModerationForm(FlaskForm):
    """The platform's decision on a reported piece of content: the action and a note for the log."""

    action = SelectField(_l("Decision"), choices=[SelectChoice(v, label) for v, label in (
        ("hide", _l("Hide")), ("restore", _l("Restore")), ("warn", _l("Warn the author")), ("suspend", _l("Suspend the author")),
        ("dismiss", _l("Dismiss the reports")))])
    reason = StringField(_l("Reason"), filters=[_strip], validators=[
        InputRequired(_l("Give a reason.")), Length(max=1000, message=_l("Use at most 1,000 characters."))])
