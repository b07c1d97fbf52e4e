"""A platform-wide cap on emails to one recipient address per hour.

``MAIL_PER_RECIPIENT_PER_HOUR`` (default 20) emails may go to one address in any moving
hour, whatever business or path sends them (booking emails, notifications, account
emails). A real person gets a handful of mails an hour from Plaza at most; past the cap a
flood (scripted bookings naming someone else's address, a password-reset storm) stops
reaching their inbox. Over the cap the caller records the delivery as not sent with
:data:`CAP_REASON` instead of sending it, and never raises.

Counted in Redis (``REDIS_URL``) with the ``limits`` library's moving window, the same
storage Flask-Limiter uses for the web limits.
"""

from __future__ import annotations

import logging
from email.utils import getaddresses

from flask import current_app
from limits import RateLimitItemPerHour
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger("plaza.notifications")

#: Default of ``MAIL_PER_RECIPIENT_PER_HOUR``.
DEFAULT_PER_HOUR = 20


def cap_reason() -> str:
    """The reason recorded on a delivery that was not sent because of the cap."""
    return f"not sent: over the limit of {per_hour()} emails per hour to this address"


def per_hour() -> int:
    """``MAIL_PER_RECIPIENT_PER_HOUR`` from the app config (default 20)."""
    return int(current_app.config.get("MAIL_PER_RECIPIENT_PER_HOUR") or DEFAULT_PER_HOUR)


def recipient_address(to: str) -> str:
    """The lower-cased ``addr-spec`` of a ``To`` value (``"Ann <Ann@X.org>"`` -> ``"ann@x.org"``)."""
    pairs = getaddresses([to or ""])
    addr = pairs[0][1] if pairs else ""
    return (addr or to or "").strip().lower()[:254]


def _limiter() -> MovingWindowRateLimiter:
    ext = current_app.extensions
    if "plaza_mail_cap" not in ext:
        ext["plaza_mail_cap"] = MovingWindowRateLimiter(storage_from_string(current_app.config["REDIS_URL"]))
    return ext["plaza_mail_cap"]


def take_send_slot(to: str) -> bool:
    """Count one email to ``to`` and say whether it may be sent (``False`` once the address
    has had ``MAIL_PER_RECIPIENT_PER_HOUR`` in the last hour). Needs an app context.

    Never raises: when Redis cannot be reached the mail is allowed (and the error logged),
    as losing a booking confirmation is worse than one uncounted mail.
    """
    address = recipient_address(to)
    if not address:
        return True
    try:
        allowed = _limiter().hit(RateLimitItemPerHour(per_hour()), "plaza-mail-recipient", address)
    except Exception:  # noqa: BLE001 - the cap must never break sending
        log.exception("mail cap unavailable; sending anyway", extra={"to": address})
        return True
    if not allowed:
        log.warning("mail over the per-recipient cap not sent", extra={"to": address, "per_hour": per_hour()})
    return allowed
