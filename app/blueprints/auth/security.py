"""Helpers shared by the auth, site and account surfaces: rate-limit keys, safe redirects
and account emails. Absolute links come from :mod:`app.tenants.urls` (configuration only)."""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from app.identity.service import TokenError, find_user, make_token, normalize_email, read_token
from app.notifications.channels.email import platform_url
from app.notifications.language import choose, speaking
from app.notifications.tasks import enqueue_account_email
from app.redis_client import get_redis
from app.timeutil import utcnow

log = logging.getLogger("plaza.auth")

#: Attempts allowed per IP and, separately, per account on login, signup and password reset.
AUTH_LIMIT = "15 per 15 minutes"


def account_key() -> str:
    """Rate-limit key for "per account": the normalised ``email`` of the posted form; on the
    password-reset page the account the link was made for; else the client IP.

    Prefixed so the bucket never coincides with the per-IP bucket of the same route.
    """
    email = normalize_email(request.form.get("email", ""))
    if email:
        return f"acct:{email[:254]}"
    token = (request.view_args or {}).get("token")
    if token:
        try:
            return "acct-id:" + str(read_token("password-reset", token, 10 * 24 * 3600).get("u"))
        except TokenError:
            return "acct-token:" + hashlib.sha256(token.encode()).hexdigest()
    return f"acct-ip:{get_remote_address()}"


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a relative path on this host (``/x?y``), else ``None``.

    Refuses absolute URLs, scheme-relative ``//host`` and backslash tricks, so a crafted
    ``next`` can never send the user to another site.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


#: Each account email's subject, in the recipient's language when rendered (the caller's
#: English ``subject`` is used for a template not listed here).
ACCOUNT_SUBJECTS = {
    "login_attack": _l("Someone is trying to sign in to your Plaza account"),
    "signup_attempt": _l("Someone tried to create a Plaza account with your email address"),
    "verify": _l("Confirm your email address for Plaza"),
    "reset": _l("Choose a new Plaza password"),
}
#: Emails the person asking for them receives themselves: without a saved choice, they are
#: written in the language of the request. The others (warnings) go to an account holder who
#: did not ask: their saved language, else English.
REQUESTED_BY_RECIPIENT = frozenset({"verify", "reset"})


def send_account_email(to: str, subject: str, template: str, **context: object) -> None:
    """Render ``auth/email_<template>.txt`` and ``.html`` and hand them to the mail queue, in
    the recipient's language (``context["user"].locale``, see :data:`REQUESTED_BY_RECIPIENT`).

    Call after the transaction that caused the mail has committed (from a view:
    ``after_commit(send_account_email, ...)``). A queue failure is logged, never raised to the user.
    """
    asked = str(get_locale()) if template in REQUESTED_BY_RECIPIENT and get_locale() is not None else None
    with speaking(choose(getattr(context.get("user"), "locale", None), asked)):
        subject = str(ACCOUNT_SUBJECTS.get(template, subject))
        text = render_template(f"auth/email_{template}.txt", **context)
        html = render_template(f"auth/email_{template}.html", **context)
    try:
        enqueue_account_email(to, subject, text, html)
    except RedisError:  # the queue is Redis: a mail hiccup must not fail the page; it is logged
        log.exception("account email could not be queued", extra={"to": to, "subject": subject})


# --- login lock-out that cannot shut the owner out ------------------------------------------------

#: How long a browser that signed in to an account stays trusted for it (the cookie's lifetime).
TRUSTED_DEVICE_SECONDS = 400 * 24 * 3600
#: How long failed sign-ins of an account are remembered for the owner's warning (seconds).
FAILED_LOGIN_WINDOW_SECONDS = 3600


def email_digest(email: str) -> str:
    """Hex SHA-256 of the normalised ``email`` (never the address itself in cookies or keys)."""
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()


def trusted_device_cookie(email: str) -> str:
    """Name of the per-account "this browser signed in before" cookie for ``email``."""
    return f"plaza_trusted_{email_digest(email)[:16]}"


def trusted_device_token(user_id: object, email: str) -> str:
    """The signed value of :func:`trusted_device_cookie` (itsdangerous through ``make_token``)."""
    return make_token("trusted-device", {"u": str(user_id), "e": email_digest(email)})


def set_trusted_device(resp: Response, user_id: object, email: str) -> None:
    """After a successful sign-in: remember this browser for the account (HttpOnly, Lax,
    Secure in production, :data:`TRUSTED_DEVICE_SECONDS`)."""
    resp.set_cookie(trusted_device_cookie(email), trusted_device_token(user_id, email),
                    max_age=TRUSTED_DEVICE_SECONDS, httponly=True, samesite="Lax",
                    secure=current_app.config["SESSION_COOKIE_SECURE"])


def is_trusted_device() -> bool:
    """True when the login request carries a valid trusted-device cookie for the posted email:
    it then skips the per-account limit (the per-IP limit still applies), so failed attempts
    from elsewhere cannot lock the owner out of a browser they signed in with before."""
    email = normalize_email(request.form.get("email", ""))
    token = request.cookies.get(trusted_device_cookie(email)) if email else None
    if not token:
        return False
    try:
        data = read_token("trusted-device", token, TRUSTED_DEVICE_SECONDS)
    except TokenError:
        return False
    return data.get("e") == email_digest(email)


def login_failed(response: Response) -> bool:
    """``deduct_when`` of the login limits: only failed sign-ins (4xx) count, never a success."""
    return response.status_code >= 400


def note_failed_login(email: str, ip: str) -> None:
    """Remember that ``ip`` failed to sign in to ``email`` (for :func:`warn_account_owner`)."""
    key = f"plaza:login-failed-ips:{email_digest(email)}"
    try:
        redis = get_redis()
        redis.sadd(key, ip or "unknown")
        redis.expire(key, FAILED_LOGIN_WINDOW_SECONDS)
    except RedisError:  # bookkeeping for a warning must not fail the login page
        log.exception("could not record a failed login")


def warn_account_owner(limit: RequestLimit) -> None:
    """``on_breach`` of the per-account login limit: email the account's owner, at most once an
    hour, that someone is trying to sign in (time, how many addresses tried, a reset link
    built from configuration). Unknown emails get nothing; the 429 looks the same either way."""
    email = normalize_email(request.form.get("email", ""))
    user = find_user(email) if email else None
    if user is None or user.suspended_at is not None:
        return
    digest = email_digest(email)
    try:
        redis = get_redis()
        if not redis.set(f"plaza:login-attack-warned:{digest}", "1", nx=True, ex=3600):
            return
        ips = redis.scard(f"plaza:login-failed-ips:{digest}") or 1
    except RedisError:  # never turn the 429 into a 500
        log.exception("could not decide on the sign-in attack warning")
        return
    send_account_email(user.email, "Someone is trying to sign in to your Plaza account", "login_attack",
                       user=user, when=utcnow(), ip_count=ips,
                       link=platform_url("/password/forgot"))
