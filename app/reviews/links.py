"""The review page's link: the booking's manage token (the completed email and the account's
bookings list carry it), opened here for as long as the review and editing windows need, not
only while the manage link works."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.booking.links import manage_token
from app.booking.models import Booking
from app.extensions import db
from app.identity.service import TokenError, read_token
from app.tenants.context import current_tenant_id
from app.tenants.models import Tenant
from app.tenants.urls import tenant_url

#: The manage token's purpose (:func:`app.booking.links.manage_token`).
TOKEN_PURPOSE = "manage-booking"
#: Oldest token accepted (seconds): the review window plus the editing window, with room.
TOKEN_MAX_AGE = 400 * 24 * 3600


def review_path(token: str) -> str:
    """Path of the review page of the booking whose manage token is ``token``."""
    return f"/review/{token}"


def review_url(tenant: Tenant, booking: Booking) -> str:
    """Absolute URL (from configuration, :func:`app.tenants.urls.tenant_url`) of ``booking``'s review page."""
    return tenant_url(tenant, review_path(manage_token(booking)))


def review_url_for(booking_id: uuid.UUID) -> str | None:
    """:func:`review_url` of booking ``booking_id`` of the business in scope, or ``None`` when missing."""
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
    tenant = db.session.get(Tenant, booking.tenant_id) if booking is not None else None
    return review_url(tenant, booking) if booking is not None and tenant is not None else None


def booking_from_review_token(token: object) -> Booking | None:
    """The booking of the business in scope that manage token ``token`` was made for, or ``None``
    (not a string, forged, another business's, missing). Unlike the manage page, it keeps working
    after the manage link's expiry: the review rules decide what may still be done."""
    if not isinstance(token, str) or not token or len(token) > 1024:
        return None
    try:
        data = read_token(TOKEN_PURPOSE, token, max_age_seconds=TOKEN_MAX_AGE)
        if data.get("t") != str(current_tenant_id()):
            return None
        booking_id = uuid.UUID(str(data["b"]))
    except (TokenError, AttributeError, KeyError, ValueError):
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
