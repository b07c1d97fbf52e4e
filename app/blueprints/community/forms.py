"""Forms of the community pages (text limits and sanitising are the domain's: the views put
its errors beside the field)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, MultipleFileField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional

from app.community.models import REASONS
from app.inputguard import person_name

#: The report reasons as the form offers them.
REASON_LABELS = {"spam": "Spam or advertising", "abuse": "Harassment or abuse", "fake": "Fake or misleading",
                 "inappropriate": "Inappropriate content", "other": "Something else"}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class InquiryForm(FlaskForm):
    """A signed-in customer's message to the business."""

    body = TextAreaField("Your message")


class GuestInquiryForm(InquiryForm):
    """A guest's message: their name and the email address they confirm."""

    name = StringField("Your name", filters=[_strip], validators=[
        InputRequired("Enter your name."), Length(max=120, message="Use at most 120 characters."), person_name])
    email = EmailField("Email", filters=[_strip], validators=[
        InputRequired("Enter your email address."), Length(max=254, message="Use at most 254 characters."),
        Email("Enter a valid email address, like name@example.com.")])


class PostForm(FlaskForm):
    """A post: its text, whether it is published, and (new posts) up to six photos."""

    body = TextAreaField("Text")
    publish = BooleanField("Publish on the profile now", default=True)
    photos = MultipleFileField("Photos (up to 6)")


class CommentForm(FlaskForm):
    """A comment on a post."""

    body = TextAreaField("Your comment")


class ReportForm(FlaskForm):
    """A report: the reason code and an optional note."""

    reason = RadioField("Why are you reporting this?", choices=[SelectChoice(r, REASON_LABELS[r]) for r in REASONS],
                        validators=[InputRequired("Choose a reason.")])
    note = TextAreaField("Anything else we should know? (optional)", filters=[_strip],
                         validators=[Optional(), Length(max=1000, message="Use at most 1,000 characters.")])
