"""Forms of the community pages (text limits and sanitising are the domain's: the views put
its errors beside the field)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, MultipleFileField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from app.community.models import REASONS
from app.inputguard import person_name

#: The report reasons as the form offers them.
REASON_LABELS = {"spam": _l("Spam or advertising"), "abuse": _l("Harassment or abuse"), "fake": _l("Fake or misleading"),
                 "inappropriate": _l("Inappropriate content"), "other": _l("Something else")}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class InquiryForm(FlaskForm):
    """A signed-in customer's message to the business."""

    body = TextAreaField(_l("Your message"))


class GuestInquiryForm(InquiryForm):
    """A guest's message: their name and the email address they confirm."""

    name = StringField(_l("Your name"), filters=[_strip], validators=[
        InputRequired(_l("Enter your name.")), Length(max=120, message=_l("Use at most 120 characters.")), person_name])
    email = EmailField(_l("Email"), filters=[_strip], validators=[
        InputRequired(_l("Enter your email address.")), Length(max=254, message=_l("Use at most 254 characters.")),
        Email(_l("Enter a valid email address, like name@example.com."))])


class PostForm(FlaskForm):
    """A post: its text, whether it is published, and (new posts) up to six photos."""

    body = TextAreaField(_l("Text"))
    publish = BooleanField(_l("Publish on the profile now"), default=True)
    photos = MultipleFileField(_l("Photos (up to 6)"))


class CommentForm(FlaskForm):
    """A comment on a post."""

    body = TextAreaField(_l("Your comment"))


class ReportForm(FlaskForm):
    """A report: the reason code and an optional note."""

    reason = RadioField(_l("Why are you reporting this?"), choices=[SelectChoice(r, REASON_LABELS[r]) for r in REASONS],
                        validators=[InputRequired(_l("Choose a reason."))])
    note = TextAreaField(_l("Anything else we should know? (optional)"), filters=[_strip],
                         validators=[Optional(), Length(max=1000, message=_l("Use at most 1,000 characters."))])
