"""Helpers shared by the auth, site and account surfaces: rate-limit keys, safe redirects
and account emails. Absolute links come from :mod:`app.tenants.urls` (configuration only)."""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

from flask import render_template, request
from flask_limiter.util import get_remote_address

from app.identity.service import TokenError, normalize_email, read_token

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


def send_account_email(to: str, subject: str, template: str, **context: object) -> None:
    """Render ``auth/email_<template>.txt`` and ``.html`` and hand them to the mail queue.

    Call after the transaction that caused the mail has committed. When the queue function
    is unavailable the mail is logged as not sent (never raised to the user).
    """
    text = render_template(f"auth/email_{template}.txt", **context)
    html = render_template(f"auth/email_{template}.html", **context)
    try:
        from app.notifications.tasks import enqueue_account_email
    except ImportError:
        log.warning("account email not sent: no mail queue", extra={"to": to, "subject": subject})
        return
    try:
        enqueue_account_email(to, subject, text, html)
    except Exception:  # noqa: BLE001 - a mail hiccup must not fail the page; it is logged
        log.exception("account email could not be queued", extra={"to": to, "subject": subject})
