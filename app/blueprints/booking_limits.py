"""Rate limits on public booking (the storefront's confirm step and ``POST /api/v1/bookings``).

Three Flask-Limiter limits, shared by both routes (one bucket each, whichever route is used).
The per-IP limit counts every attempt before the booking is tried (an atomic hit in Redis),
so a burst of parallel requests from one address cannot slip past it. The per-email and
per-business limits count only bookings actually made (201 or 303): otherwise anyone could
use up a stranger's address or a business's budget with junk requests and lock real guests
out. Going back from the summary to edit the details (``action=edit``) never counts.

* per client IP: ``BOOKING_LIMITS_PER_IP``, default ``10 per hour;30 per day``. A busy
  family or a front desk on one shared connection books a handful an hour; ten is a lot for
  one household, and thirty a day stops a script without touching real people.
* per customer email (normalised, across the platform): ``BOOKING_LIMITS_PER_EMAIL``,
  default ``5 per hour;15 per day``, so rotating IPs does not let one address be flooded
  with confirmations.
* per business: the business's own hourly cap (``tenant.public_bookings_per_hour``, default
  60, set by the owner on the Booking rules page, 1-10000). Sixty public bookings an hour is
  far above what a salon's chairs can take, yet stops a script from filling days of calendar.

Staff of the business (logged in here, or sending a live API token of this business as
``Authorization: Bearer``) are not subject to any of them. Over a limit the answer is 429
with ``Retry-After``: the friendly page, or problem+json under ``/api/`` (see
``register_errorhandlers``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import limiter
from app.identity.service import find_api_token, normalize_email
from app.tenants.models import STAFF_ROLES
from app.web import user_roles

#: Hourly cap on public bookings per business when the owner has not chosen one.
DEFAULT_PUBLIC_BOOKINGS_PER_HOUR = 60

#: What the guest reads on the 429 page (the wait is added by the error handler).
BOOKING_LIMIT_MESSAGE = ("You have made a lot of bookings in a short time, so we paused new ones for a while. "
                         "If you need more, please contact the business directly.")
BUSINESS_LIMIT_MESSAGE = ("This business is taking a lot of online bookings right now, so new ones are paused "
                          "for a little while. Please try again later or contact the business directly.")


def is_staff_request() -> bool:
    """True when the caller is staff of the current business: a logged-in owner, manager or
    staff member here, or a live API token of this business in ``Authorization: Bearer``."""
    if g.get("tenant") is None:
        return False
    if user_roles() & {r.value for r in STAFF_ROLES}:
        return True
    scheme, _, secret = request.headers.get("Authorization", "").strip().partition(" ")
    return scheme.lower() == "bearer" and bool(secret.strip()) and find_api_token(secret.strip()) is not None


def booking_email() -> str:
    """The normalised customer email of this booking request: the form's ``email`` or the
    JSON body's ``customer.email``; ``""`` when absent."""
    raw: Any = request.form.get("email")
    if raw is None:
        body = request.get_json(silent=True)
        customer = body.get("customer") if isinstance(body, dict) else None
        raw = customer.get("email") if isinstance(customer, dict) else None
    return normalize_email(raw)[:254] if isinstance(raw, str) else ""


def email_key() -> str:
    """Rate-limit key "per customer email" (the client IP when the request has no email)."""
    email = booking_email()
    return f"email:{email}" if email else f"email-ip:{get_remote_address()}"


def business_key() -> str:
    """Rate-limit key "per business": the tenant id."""
    tenant = g.get("tenant")
    return f"tenant:{tenant.id}" if tenant is not None else "tenant:none"


def business_limit() -> str:
    """The current business's hourly cap on public bookings, as a ``limits`` string."""
    tenant = g.get("tenant")
    per_hour = getattr(tenant, "public_bookings_per_hour", None) or DEFAULT_PUBLIC_BOOKINGS_PER_HOUR
    return f"{int(per_hour)} per hour"


def ip_limits() -> str:
    """``BOOKING_LIMITS_PER_IP`` (``;``-separated ``limits`` strings)."""
    return current_app.config.get("BOOKING_LIMITS_PER_IP") or "10 per hour;30 per day"


def email_limits() -> str:
    """``BOOKING_LIMITS_PER_EMAIL`` (``;``-separated ``limits`` strings)."""
    return current_app.config.get("BOOKING_LIMITS_PER_EMAIL") or "5 per hour;15 per day"


def not_a_booking_attempt() -> bool:
    """``exempt_when`` of the booking limits: staff (:func:`is_staff_request`), or the summary
    page's "edit details" button, which books nothing."""
    return request.form.get("action") == "edit" or is_staff_request()


def booking_made(response: Response) -> bool:
    """``deduct_when`` of the per-email and per-business limits: the response created a booking
    (``201`` from the API, ``303`` from the page)."""
    return response.status_code in (201, 303)


def public_booking_limits(view: Callable) -> Callable:
    """Decorate a public booking-create view with the per-IP, per-email and per-business limits."""
    common: dict[str, Any] = {"methods": ["POST"], "exempt_when": not_a_booking_attempt}
    view = limiter.shared_limit(business_limit, scope="public-booking-business", key_func=business_key,
                                error_message=BUSINESS_LIMIT_MESSAGE, deduct_when=booking_made, **common)(view)
    view = limiter.shared_limit(email_limits, scope="public-booking-email", key_func=email_key,
                                error_message=BOOKING_LIMIT_MESSAGE, deduct_when=booking_made, **common)(view)
    return limiter.shared_limit(ip_limits, scope="public-booking-ip", error_message=BOOKING_LIMIT_MESSAGE,
                                **common)(view)


def guest_confirm_threshold(email: str | None) -> int | None:
    """``confirm_email_over`` for :func:`app.booking.service.create_booking`: the number of open
    bookings (``GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM``, default 3) past which a booking for
    ``email`` waits for email confirmation; ``None`` (never) for staff and for a signed-in
    customer booking under their own verified address."""
    if is_staff_request():
        return None
    if current_user.is_authenticated and getattr(current_user, "email_verified_at", None) is not None \
            and normalize_email(current_user.email) == normalize_email(email or ""):
        return None
    return int(current_app.config.get("GUEST_OPEN_BOOKINGS_BEFORE_CONFIRM") or 3)
