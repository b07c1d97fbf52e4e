"""Payment holds that ran out: re-check Stripe once, then release the slot.

Functions flush and never commit (the job commits).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus
from app.booking.service import SYSTEM, transition
from app.checkout.sync import sync_payment_intent, sync_setup_intent
from app.extensions import db
from app.payments.gateway import GatewayError, get_payments
from app.payments.holds import booking_payment, hold_active
from app.payments.models import BookingPayment
from app.timeutil import utcnow

log = logging.getLogger("plaza.payments")


def expire_hold(booking_id: uuid.UUID, now: datetime | None = None) -> str:
    """End the hold of an ``awaiting_payment`` booking whose time ran out: first re-check the
    PaymentIntent (a success that arrived in time confirms it); otherwise release the slot
    (``expire_hold`` -> cancelled). Returns ``confirmed``, ``expired`` or ``skipped``.
    A payment that succeeds later is refunded by :func:`sync_payment_intent`.
    """
    now = now or utcnow()
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id).with_for_update())
    payment = booking_payment(booking_id)
    if booking is None or payment is None or booking.status != BookingStatus.AWAITING_PAYMENT.value:
        return "skipped"
    if hold_active(payment, now):
        return "skipped"
    try:
        if payment.setup_intent_id and payment.payment_method_id is None:
            if sync_setup_intent(get_payments().retrieve_setup_intent(payment.setup_intent_id)) == "confirmed":
                return "confirmed"
        if payment.payment_intent_id and sync_payment_intent(payment.payment_intent_id, now).outcome == "confirmed":
            return "confirmed"
    except GatewayError:
        log.warning("could not re-check payment before expiring its hold", extra={"booking_id": str(booking_id)})
    transition(booking, "expire_hold", SYSTEM, "the payment was not completed within 15 minutes")
    return "expired"


def expired_hold_ids(now: datetime) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """``(tenant_id, booking_id)`` of every ``awaiting_payment`` booking whose hold ended by ``now``,
    across tenants (call inside ``platform_scope``)."""
    return list(db.session.execute(
        sa.select(Booking.tenant_id, Booking.id).join(
            BookingPayment, sa.and_(BookingPayment.tenant_id == Booking.tenant_id,
                                    BookingPayment.booking_id == Booking.id))
        .where(Booking.status == BookingStatus.AWAITING_PAYMENT.value, BookingPayment.hold_expires_at <= now)))
