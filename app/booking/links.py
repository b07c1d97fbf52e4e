"""Signed links that open a booking without an account: the manage link and the guest's
"confirm your booking" link (tokens from :mod:`app.identity.service`, scoped to a tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import gettext as _

from app.booking.errors import ManageLinkExpired
from app.booking.models import Booking
from app.extensions import db
from app.identity.service import TokenError, make_token, read_token
from app.tenants.context import current_tenant_id
from app.timeutil import utcnow

#: How long a guest has to click the emailed link of an ``awaiting_email`` booking by default
#: (``GUEST_CONFIRM_MINUTES``).
EMAIL_CONFIRM_TTL = timedelta(minutes=30)

def email_confirm_ttl() -> timedelta:
    """How long an ``awaiting_email`` booking waits for its link (``GUEST_CONFIRM_MINUTES``
    from the app config when there is one, else :data:`EMAIL_CONFIRM_TTL`)."""
    minutes = current_app.config.get("GUEST_CONFIRM_MINUTES") if has_app_context() else None
    return timedelta(minutes=int(minutes)) if minutes else EMAIL_CONFIRM_TTL


def email_confirm_token(tenant_id: uuid.UUID, booking_id: uuid.UUID) -> str:
    """Signed token of the "confirm your booking" link of an ``awaiting_email`` booking."""
    return make_token("confirm-booking-email", {"t": str(tenant_id), "b": str(booking_id)})


def booking_from_email_confirm_token(token: str) -> Booking | None:
    """The current tenant's booking ``token`` (from :func:`email_confirm_token`) was made for,
    or ``None`` when the token is forged, for another business, or older than the expiry."""
    try:
        data = read_token("confirm-booking-email", token, max_age_seconds=int(email_confirm_ttl().total_seconds()))
    except TokenError:
        return None
    if data.get("t") != str(current_tenant_id()):
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(data["b"])))


def manage_token(booking: Booking) -> str:
    """Signed token for the booking's manage link (identifies tenant and booking). It opens the
    booking until :func:`manage_link_expires_at`."""
    return make_token("manage-booking", {"t": str(booking.tenant_id), "b": str(booking.id)})


#: Default of ``MANAGE_LINK_DAYS_AFTER``: days after a booking's end its manage link keeps working.
MANAGE_LINK_DAYS_AFTER = 30


def manage_link_days_after() -> int:
    """``MANAGE_LINK_DAYS_AFTER`` (whole days, at least 0) from the app config."""
    return max(0, int(current_app.config.get("MANAGE_LINK_DAYS_AFTER", MANAGE_LINK_DAYS_AFTER)))


def manage_link_expires_at(booking: Booking) -> datetime:
    """When ``booking``'s manage link stops working: ``MANAGE_LINK_DAYS_AFTER`` days after the
    booking's end (tz-aware UTC). A reschedule moves it with the booking."""
    return booking.ends_at + timedelta(days=manage_link_days_after())


def manage_link_expired(booking: Booking, now: datetime | None = None) -> bool:
    """True when ``booking``'s manage link no longer works at ``now`` (default: the current time)."""
    return (now or utcnow()) >= manage_link_expires_at(booking)


def open_manage_link(token: str, now: datetime | None = None) -> Booking | None:
    """The booking of the current tenant that ``token`` was made for, or ``None`` (not a
    string, bad signature, another tenant's booking, a missing booking).

    Raises:
        ManageLinkExpired: a genuine link of a booking that ended more than
            ``MANAGE_LINK_DAYS_AFTER`` days before ``now`` (pages say the link has expired).
    """
    if not isinstance(token, str) or not token or len(token) > 1024:
        return None
    try:
        data = read_token("manage-booking", token, max_age_seconds=400 * 24 * 3600)
    except TokenError:
        return None
    try:
        if data.get("t") != str(current_tenant_id()):
            return None
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(str(data["b"]))))
    except (AttributeError, KeyError, ValueError):
        return None
    if booking is not None and manage_link_expired(booking, now):
        raise ManageLinkExpired(_("This link has expired: it worked until %(days)d days after the "
                                  "appointment.", days=manage_link_days_after()))
    return booking


def booking_from_manage_token(token: str, now: datetime | None = None) -> Booking | None:
    """The booking of the current tenant that ``token`` was made for while its link works,
    else ``None`` (an expired link answers like an invalid one; see :func:`open_manage_link`)."""
    try:
        return open_manage_link(token, now)
    except ManageLinkExpired:
        return None
