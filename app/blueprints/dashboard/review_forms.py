"""The dashboard's reply to a review."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from app.reviews.models import MAX_REPLY


class ReplyForm(FlaskForm):
    """The business's public reply: plain text, 1–2,000 characters (the domain removes HTML and counts)."""

    reply = TextAreaField(_l("Public reply"), validators=[InputRequired(_l("Write a reply before sending it."))],
                          render_kw={"maxlength": MAX_REPLY, "rows": 3})
