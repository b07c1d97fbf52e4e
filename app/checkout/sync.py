"""Derive a booking's payment from Stripe's current objects (webhooks, the pay step, the
reconcile command): PaymentIntents and SetupIntents are re-fetched and upserted, never
incremented, so duplicates, retries and any order of delivery end in the same state.

Tenant in scope; functions flush and never commit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus
from app.checkout.errors import MissingRecord
from app.checkout.state import LATE_REFUND_DESCRIPTIONS, late_payment_cause, mark_paid, was_paid
from app.extensions import db
from app.outbox.events import emit
from app.payments.events import emit_money_event
from app.payments.gateway import get_payments
from app.payments.holds import intent_metadata, payment_ready
from app.payments.ledger import N_, ledger_refund, record_ledger
from app.payments.models import BookingPayment
from app.tenants.models import Tenant

log = logging.getLogger("plaza.payments")


@dataclass(frozen=True)
class SyncResult:
    """What :func:`sync_payment_intent` did: ``status`` of the intent and ``outcome``
    (``confirmed``, ``late_refund``, ``unchanged``, ``unknown``)."""

    status: str
    outcome: str


def sync_setup_intent(si: dict) -> str:
    """Upsert a (re-fetched) SetupIntent: on success save its card and customer on the
    booking's payment and confirm the booking when nothing else is outstanding. Idempotent."""
    raw = (si.get("metadata") or {}).get("plaza_booking")
    if not raw:
        return "ignored"
    payment = db.session.scalar(sa.select(BookingPayment).where(
        BookingPayment.booking_id == uuid.UUID(raw)).with_for_update())
    if payment is None or payment.setup_intent_id != si["id"]:
        return "ignored"
    if si.get("status") != "succeeded" or not si.get("payment_method"):
        return "unchanged"
    pm = si["payment_method"]
    payment.payment_method_id = pm if isinstance(pm, str) else pm.get("id")
    payment.customer_stripe_id = payment.customer_stripe_id or si.get("customer")
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == payment.booking_id).with_for_update())
    db.session.flush()
    if booking is not None and booking.status == BookingStatus.AWAITING_PAYMENT.value and payment_ready(payment):
        tenant = db.session.get(Tenant, booking.tenant_id)
        if tenant is None:
            raise MissingRecord(f"tenant {booking.tenant_id}")
        mark_paid(tenant, booking)
        return "confirmed"
    return "card_saved"


def sync_payment_intent(payment_intent_id: str, now: datetime | None = None) -> SyncResult:
    """Re-fetch ``payment_intent_id`` and derive everything from its current state (idempotent,
    order-safe): the payment's status; ledger rows for the payment, Plaza's fee and every
    refund; an ``awaiting_payment`` booking confirmed on success; a success for a booking
    whose hold already ended (never paid, now cancelled) refunded in full once, with an
    outbox event to tell the customer. Money outbox events for the customer's notifications,
    once each (:func:`emit_money_event`): ``payment.received`` per intent, ``payment.failed``
    per failed charge, ``refund.issued`` per refund.
    """
    payment = db.session.scalar(sa.select(BookingPayment).where(
        BookingPayment.payment_intent_id == payment_intent_id).with_for_update())
    if payment is None:
        return sync_fee_intent(payment_intent_id)
    pi = get_payments().retrieve_payment_intent(payment_intent_id)
    payment.status = pi["status"]
    if pi.get("customer"):
        payment.customer_stripe_id = payment.customer_stripe_id or pi["customer"]
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == payment.booking_id).with_for_update())
    if booking is None:
        raise MissingRecord(f"booking {payment.booking_id}")
    outcome = "unchanged"
    if pi["status"] == "succeeded":
        received = int(pi.get("amount_received") or pi["amount"])
        charge = pi.get("latest_charge")
        charge_id = charge if isinstance(charge, str) else (charge or {}).get("id")
        record_ledger(kind="payment", amount=received, currency=booking.currency, key=f"pi:{pi['id']}:payment",
                      booking_id=booking.id, payment_intent=pi["id"], charge=charge_id,
                      description=N_("Booking payment"))
        if booking.status != BookingStatus.CANCELLED.value or was_paid(booking.id):
            # (a late success on a cancelled booking is refunded and told by ``payment.late_refund``)
            emit_money_event("payment.received", f"payment.received:{pi['id']}", booking_id=str(booking.id),
                             payment_intent=pi["id"], amount=received)
        if payment.application_fee_amount:
            record_ledger(kind="application_fee", amount=-payment.application_fee_amount, currency=booking.currency,
                          key=f"pi:{pi['id']}:application_fee", booking_id=booking.id, payment_intent=pi["id"],
                          description=N_("Plaza application fee"))
        if booking.status == BookingStatus.AWAITING_PAYMENT.value and payment_ready(payment):
            tenant = db.session.get(Tenant, booking.tenant_id)
            if tenant is None:
                raise MissingRecord(f"tenant {booking.tenant_id}")
            mark_paid(tenant, booking)
            outcome = "confirmed"
        elif booking.status == BookingStatus.CANCELLED.value and not was_paid(booking.id):
            outcome = refund_late_success(booking, payment, pi)
    error = pi.get("last_payment_error") or {}
    if pi["status"] == "requires_payment_method" and error:
        attempt = error.get("charge") or error.get("code") or "unknown"
        emit_money_event("payment.failed", f"payment.failed:{pi['id']}:{attempt}", booking_id=str(booking.id),
                         payment_intent=pi["id"], amount=int(pi["amount"]),
                         reason=str(error.get("message") or error.get("code") or "the card was declined"))
    if pi["status"] in ("succeeded", "requires_capture"):
        for refund in get_payments().list_refunds(pi["id"]):
            ledger_refund(booking.id, booking.currency, refund, "Refund")
    db.session.flush()
    return SyncResult(pi["status"], outcome)


def refund_late_success(booking: Booking, payment: BookingPayment, pi: dict) -> str:
    """Refund in full a payment that succeeded after its booking stopped waiting for it (the
    hold expired, or the customer or business cancelled it first; idempotency key per intent),
    and write ``payment.late_refund`` once (``amount`` minor units, ``cause`` from
    :func:`late_payment_cause`, ``cancelled_by``) so the customer is told why."""
    cause = late_payment_cause(booking)
    refunded = sum(r["amount"] for r in get_payments().list_refunds(pi["id"]) if r.get("status") != "failed")
    amount = int(pi.get("amount_received") or pi["amount"]) - refunded
    if amount > 0:
        refund = get_payments().create_refund(payment_intent=pi["id"], amount=amount,
                                              metadata={**intent_metadata(booking.tenant_id, booking.id, "late_success")},
                                              idempotency_key=f"pi:{pi['id']}:late-refund")
        ledger_refund(booking.id, booking.currency, refund, LATE_REFUND_DESCRIPTIONS[cause], notify=False)
    key = f"payment.late_refund:{pi['id']}"
    emit("payment.late_refund", {"booking_id": str(booking.id), "payment_intent": pi["id"], "amount": amount,
                                  "key": key, "cause": cause, "cancelled_by": booking.cancelled_by}, dedup_key=key)
    log.info("late payment refunded", extra={"booking_id": str(booking.id), "payment_intent": pi["id"]})
    return "late_refund"


def sync_fee_intent(payment_intent_id: str) -> SyncResult:
    """A PaymentIntent that is not a booking's main payment: an off-session fee charge (ledger ``fee``)."""
    pi = get_payments().retrieve_payment_intent(payment_intent_id)
    meta = pi.get("metadata") or {}
    booking_id = meta.get("plaza_booking")
    if meta.get("plaza_purpose") != "fee" or not booking_id:
        return SyncResult(pi["status"], "unknown")
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == uuid.UUID(booking_id)))
    if booking is None:
        return SyncResult(pi["status"], "unknown")
    if pi["status"] == "succeeded":
        record_ledger(kind="fee", amount=int(pi.get("amount_received") or pi["amount"]), currency=booking.currency,
                      key=f"policy:{meta.get('plaza_event') or pi['id']}:fee", booking_id=booking.id,
                      payment_intent=pi["id"],
                      description=meta.get("plaza_reason", N_("Fee")))
    for refund in get_payments().list_refunds(pi["id"]) if pi["status"] == "succeeded" else []:
        ledger_refund(booking.id, booking.currency, refund, "Refund of fee")
    return SyncResult(pi["status"], "unchanged")
