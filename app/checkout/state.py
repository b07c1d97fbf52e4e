"""What payments do to a booking: a completed payment confirms it (or sends it for the
business's approval), and what the booking's history says about its money.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.booking.models import Booking, BookingEvent, BookingStatus
from app.booking.service import SYSTEM, transition
from app.extensions import db
from app.tenants.models import Tenant

#: Booking events that mean the customer completed the pay step.
PAID_ACTIONS = ("pay", "pay_request")


def mark_paid(tenant: Tenant, booking: Booking) -> None:
    """Move ``booking`` out of ``awaiting_payment``: confirmed, or pending when ``tenant`` confirms
    bookings itself (``requires_confirmation``). Raises ``InvalidTransition`` from another status."""
    action = "pay_request" if tenant.requires_confirmation else "pay"
    transition(booking, action, SYSTEM, "payment received")


def was_paid(booking_id: uuid.UUID) -> bool:
    """Whether booking ``booking_id`` ever completed its pay step (a ``pay``/``pay_request`` event)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(BookingEvent).where(
        BookingEvent.booking_id == booking_id, BookingEvent.kind.in_(PAID_ACTIONS))) > 0


def late_payment_cause(booking: Booking) -> str:
    """Why an unpaid booking that was then paid is no longer active: ``hold_expired`` (its
    payment time ran out) or ``cancelled`` (the customer or the business cancelled it), from
    the booking's latest move to ``cancelled``."""
    kind = db.session.scalar(sa.select(BookingEvent.kind).where(
        BookingEvent.booking_id == booking.id, BookingEvent.to_status == BookingStatus.CANCELLED.value)
        .order_by(BookingEvent.at.desc()).limit(1))
    return "hold_expired" if kind == "expire_hold" else "cancelled"


LATE_REFUND_DESCRIPTIONS = {"hold_expired": "Refund: paid after the hold ended",
                            "cancelled": "Refund: paid after the booking was cancelled"}
