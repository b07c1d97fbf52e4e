"""Forms of the chat pages (the body is validated by the chat domain)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField


class MessageForm(FlaskForm):
    """Post one message; emptiness, length and rate are checked by :func:`app.chat.service.post_message`."""

    body = TextAreaField(_l("Message"))
