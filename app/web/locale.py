"""Which language a request is answered in (Flask-Babel's locale selector).

The order: the signed-in person's saved choice (``user_account.locale``), else the choice a guest
made with the language switcher (kept in the session), else the browser's ``Accept-Language``,
else the business's default language (``tenant.default_locale``) on its host, else English.
"""

from __future__ import annotations

from flask import g, has_request_context, request, session
from flask_login import current_user

from app.i18n import DEFAULT_LANGUAGE, first_supported, supported_locale

#: Session key of a guest's choice from the language switcher.
SESSION_KEY = "locale"


def select_locale() -> str:
    """The Babel locale identifier (``da``, ``en_GB``) this request is answered in; outside a
    request (jobs, CLI) :data:`~app.i18n.DEFAULT_LANGUAGE` — jobs speak to a recipient with
    ``flask_babel.force_locale(recipient_locale)`` instead."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = None
    user = current_user if current_user else None
    if user is not None and user.is_authenticated:
        chosen = supported_locale(getattr(user, "locale", None))
    if chosen is None:
        chosen = supported_locale(session.get(SESSION_KEY)) if SESSION_KEY in session else None
    if chosen is None:
        chosen = first_supported(value for value, _quality in request.accept_languages)
    if chosen is None:
        tenant = g.get("tenant")
        chosen = supported_locale(getattr(tenant, "default_locale", None)) if tenant is not None else None
    return chosen or DEFAULT_LANGUAGE
