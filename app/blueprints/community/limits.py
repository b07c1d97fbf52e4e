"""Rate limits of the community's public POSTs (Flask-Limiter, Redis, shared by every process).

Inquiries (``POST /message``) have three limits, counted only when an inquiry is actually
started (``303``), so junk requests cannot use up a stranger's or a business's budget — except
the per-IP one, which counts every attempt:

* per person (the signed-in account, else the email typed): ``INQUIRY_LIMITS_PER_PERSON``,
  default ``5 per hour;20 per day`` — a person asks a handful of businesses a day;
* per business: ``INQUIRY_LIMITS_PER_BUSINESS``, default ``60 per hour`` — far above what a
  local business receives, low enough to stop a script flooding its inbox;
* per client IP: ``INQUIRY_LIMITS_PER_IP``, default ``20 per hour``.

Comments and reports: ``COMMENT_LIMITS`` (default ``20 per hour``) per account and
``REPORT_LIMITS`` (default ``20 per hour``) per client IP; favourites ``FAVOURITE_LIMITS`` per
person; a guest's inquiry link ``GUEST_INQUIRY_LIMITS`` per IP. Over a limit the answer is 429 with
``Retry-After`` (the app's friendly page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.identity.service import normalize_email


def inquiry_limit_message() -> str:
    """The refusal when a person (or an IP address) has started too many inquiries, in the reader's language."""
    return _("You have written to a lot of businesses in a short time, so new messages are paused for a "
             "while. Please try again later.")


def business_limit_message() -> str:
    """The refusal when a business receives too many new inquiries, in the reader's language."""
    return _("This business is receiving a lot of messages right now, so new ones are paused for a "
             "little while. Please try again later.")


def _setting(name: str, default: str) -> Callable[[], str]:
    def read() -> str:
        return current_app.config.get(name) or default

    return read


def person_key() -> str:
    """Rate-limit key "per person": the signed-in account, else the normalised email of the
    form, else the client IP."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    email = normalize_email(request.form.get("email") or "")[:254]
    return f"email:{email}" if email else f"ip:{get_remote_address()}"


def business_key() -> str:
    """Rate-limit key "per business": the tenant id of the host."""
    tenant = g.get("tenant")
    return f"tenant:{tenant.id}" if tenant is not None else "tenant:none"


def started(response: Response) -> bool:
    """``deduct_when``: the request started an inquiry (a 303 to its page)."""
    return response.status_code == 303


def inquiry_limits(view: Callable) -> Callable:
    """Decorate the inquiry-start view with the per-person, per-business and per-IP limits."""
    common: dict[str, Any] = {"methods": ["POST"]}
    view = limiter.limit(_setting("INQUIRY_LIMITS_PER_BUSINESS", "60 per hour"), key_func=business_key,
                         scope="inquiry-business", error_message=business_limit_message, deduct_when=started,
                         **common)(view)
    view = limiter.limit(_setting("INQUIRY_LIMITS_PER_PERSON", "5 per hour;20 per day"), key_func=person_key,
                         scope="inquiry-person", error_message=inquiry_limit_message, deduct_when=started,
                         **common)(view)
    return limiter.limit(_setting("INQUIRY_LIMITS_PER_IP", "20 per hour"), scope="inquiry-ip",
                         error_message=inquiry_limit_message, **common)(view)


def comment_limits(view: Callable) -> Callable:
    """Per-account limit on posting comments."""
    return limiter.limit(_setting("COMMENT_LIMITS", "20 per hour"), key_func=person_key, scope="comment",
                         methods=["POST"])(view)


def report_limits(view: Callable) -> Callable:
    """Per-IP limit on sending reports."""
    return limiter.limit(_setting("REPORT_LIMITS", "20 per hour"), scope="report", methods=["POST"])(view)


def favourite_limits(view: Callable) -> Callable:
    """Per-person limit on marking favourites: ``FAVOURITE_LIMITS``, default ``120 per hour``."""
    return limiter.limit(_setting("FAVOURITE_LIMITS", "120 per hour"), key_func=person_key, scope="favourite",
                         methods=["POST"])(view)


def guest_link_limits(view: Callable) -> Callable:
    """Per-IP limit on POSTs to a guest's inquiry link (confirming, writing): ``GUEST_INQUIRY_LIMITS``,
    default ``60 per hour`` (the chat's own per-author rate applies on top)."""
    return limiter.limit(_setting("GUEST_INQUIRY_LIMITS", "60 per hour"), scope="guest-inquiry",
                         methods=["POST"])(view)
