"""A booking's payment row and its hold: how long a slot is held while the customer pays,
and whether everything asked at booking is done. Knows bookings only by id.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.payments.models import BookingPayment
from app.timeutil import utcnow

#: How long a slot is held while the customer pays.
HOLD_DURATION = timedelta(minutes=15)


#: SetupIntent statuses in which the browser can still confirm it with a card.
OPEN_SETUP_STATUSES = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})


def booking_payment(booking_id: uuid.UUID) -> BookingPayment | None:
    """The payment asked for ``booking_id``, if any."""
    return db.session.scalar(sa.select(BookingPayment).where(BookingPayment.booking_id == booking_id))


def intent_metadata(tenant_id: uuid.UUID, booking_id: uuid.UUID, purpose: str) -> dict[str, str]:
    """The metadata Plaza puts on a booking's Stripe objects, so a webhook finds its tenant and booking."""
    return {"plaza_tenant": str(tenant_id), "plaza_booking": str(booking_id), "plaza_purpose": purpose}


def payment_ready(payment: BookingPayment) -> bool:
    """True when everything asked at booking is done: paid (or nothing to pay) and the card
    saved when one was asked."""
    return payment.status == "succeeded" and (payment.setup_intent_id is None or payment.payment_method_id is not None)


def hold_active(payment: BookingPayment, now: datetime | None = None) -> bool:
    """True while the hold of ``payment`` has not expired."""
    return payment.hold_expires_at is None or (now or utcnow()) < payment.hold_expires_at
