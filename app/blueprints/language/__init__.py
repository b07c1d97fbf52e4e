"""The language switcher on every host: ``POST /language`` with ``locale`` and ``next``.

A guest's choice is kept in the session; a signed-in person's is saved on their account
(``user_account.locale``), so emails and notifications follow it too.
"""

from __future__ import annotations

from flask import Blueprint, redirect, request, session
from flask_login import current_user

from app.blueprints.auth.security import safe_next
from app.extensions import limiter
from app.i18n import supported_locale
from app.web.locale import SESSION_KEY

bp = Blueprint("language", __name__)

#: Switching language is cheap but writes the session (and the account): bounded per client.
LANGUAGE_LIMIT = "30 per minute"


@bp.post("/language")
@limiter.limit(LANGUAGE_LIMIT)
def switch():
    """Set the reader's language to the form's ``locale`` (``en``, ``da``; anything else is
    ignored) and go back to ``next`` (a path on this host) or ``/``. 303 either way."""
    locale = supported_locale(request.form.get("locale"))
    if locale is not None:
        session[SESSION_KEY] = locale
        if current_user.is_authenticated:
            current_user.locale = locale
    return redirect(safe_next(request.form.get("next")) or "/", code=303)
