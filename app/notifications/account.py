"""Account notices, for the auth views to call (each flushes; the
view commits, and the deliveries are queued once that commit happens).

* :func:`notify_password_changed`, :func:`notify_email_verified`
* :func:`notify_login` - "new sign-in from an unknown device": a device is known by a random
  id the browser keeps in a long-lived cookie (:data:`DEVICE_COOKIE`); the hashes of a
  person's known devices live in Redis. The very first sign-in of an account tells nobody.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from app.audit.service import AuditActor, record_audit
from app.delivery.mailer import local
from app.identity.models import User
from app.identity.sessions import describe_browser
from app.notifications import dispatch
from app.notifications.language import speaking, user_locale
from app.redis_client import get_redis
from app.timeutil import utcnow

DEVICE_COOKIE = "plaza_device"
#: How long a device stays known without signing in (and the cookie's lifetime).
DEVICE_TTL_SECONDS = 400 * 24 * 3600


def _when(now: datetime) -> str:
    return local(now, "UTC", "%A %d %B %Y, %H:%M") + " UTC"


def notify_password_changed(user: User, now: datetime | None = None) -> dispatch.Notified:
    """Tell the person their password changed (email is locked on)."""
    now = now or utcnow()
    with speaking(user_locale(user)):
        when = _when(now)
    return dispatch.notify_now(user_id=user.id, type_key="password_changed", audience="user",
                             context={"when": when}, subject_key="security",
                             source_key=f"password:{user.id}:{user.session_version}", url="/password/forgot", now=now)


def notify_email_verified(user: User) -> dispatch.Notified:
    """Welcome the person once their email address is verified."""
    return dispatch.notify_now(user_id=user.id, type_key="account_email_verified", audience="user",
                             context={"email": user.email}, source_key=f"verified:{user.id}:{user.email}")


def new_device_id() -> str:
    """A fresh random device id for :data:`DEVICE_COOKIE`."""
    return secrets.token_urlsafe(24)


def describe_device(user_agent: str) -> str:
    """A person's words for the browser behind ``user_agent``: "Chrome on Linux", "Mobile
    Safari on iPhone", or "an unknown browser" (parsed with ``ua-parser``'s regexes, the
    uap-core project)."""
    browser, system = describe_browser(user_agent)
    if not browser:
        return f"an unknown browser on {system}" if system else "an unknown browser"
    return f"{browser} on {system}" if system else browser


def notify_login(user: User, device_id: str | None, *, device: str, ip: str,
                 now: datetime | None = None) -> tuple[str, bool]:
    """Record a sign-in from ``device_id`` (the cookie's value, ``None`` when absent) and tell
    the person when it is a device not seen before and not their first ever sign-in.

    ``device`` is the browser's user agent (described with :func:`describe_device`), ``ip`` the client address.
    Returns ``(device id to keep in the cookie, whether a notice was sent)``. Needs an app context.
    """
    now = now or utcnow()
    device_id = device_id or new_device_id()
    key = f"plaza:known-devices:{user.id}"
    digest = hashlib.sha256(device_id.encode()).hexdigest()
    redis = get_redis()
    known_before = redis.scard(key)
    added = redis.sadd(key, digest)
    redis.expire(key, DEVICE_TTL_SECONDS)
    if not added or known_before == 0:
        return device_id, False
    record_audit(AuditActor(user.id, ip or None, device or None), "user.login_new_device", "user", user.id,
                 after={"device": describe_device(device)[:120]})
    with speaking(user_locale(user)):
        when = _when(now)
    dispatch.notify_now(user_id=user.id, type_key="new_login_unknown_device", audience="user",
                      context={"device": describe_device(device)[:120], "ip": ip or "unknown",
                               "when": when},
                      subject_key="security", source_key=f"login:{user.id}:{digest}", url="/notifications/", now=now)
    return device_id, True
