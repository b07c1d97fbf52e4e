"""The money policy applied to bookings: what a booking of a service asks at booking, refunds
and fees when a booking is cancelled, missed or moved, and whether a customer may still move
it online. The rules themselves are pure (:mod:`app.payments.policy`).

Tenant in scope; functions flush and never commit.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from app.booking.models import Booking, BookingStatus
from app.catalog.models import Service
from app.checkout.state import was_paid
from app.checkout.totals import services_ask_payment
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.payments.connect import connect_account
from app.payments.fees import (
    UNCOLLECTED_FEE_STATUSES,
    card_refused,
    fee_uncollected_for,
    record_fee_uncollected,
    refusal_reason,
)
from app.payments.gateway import GatewayError, get_payments
from app.payments.holds import booking_payment, intent_metadata
from app.payments.ledger import ledger_refund, record_ledger
from app.payments.models import BookingPayment, LedgerEntry
from app.payments.policy import Action, Decision, customer_may_reschedule, decide, describe
from app.payments.settings import accepts_payments, business_policy, service_rule
from app.tenants.models import Tenant

#: Outbox event kind -> policy action, for events of bookings that may carry money.
#: ``booking.cancelled`` depends on who cancelled (see :func:`action_for_event`).
EVENT_ACTIONS: dict[str, Action] = {
    "booking.no_show": Action.NO_SHOW,
    "booking.hold_expired": Action.HOLD_EXPIRED,
    "booking.declined": Action.BUSINESS_CANCEL,
    "booking.expired": Action.BUSINESS_CANCEL,
    "booking.rescheduled": Action.CUSTOMER_RESCHEDULE,
}


def initial_status_for(service: Service, also: Sequence[Service] = ()) -> BookingStatus | None:
    """``awaiting_payment`` when a booking of ``service`` (and the services ``also`` after it)
    must be paid now (payments on, the account can charge, a service asks a deposit or
    prepayment above zero); else ``None`` (the booking service's own choice)."""
    if not accepts_payments():
        return None
    if business_policy().require_card or services_ask_payment([service, *also]):
        return BookingStatus.AWAITING_PAYMENT
    return None


def action_for_event(kind: str, payload: dict) -> Action | None:
    """The policy action an outbox event stands for (``None``: no money question)."""
    if kind == "booking.cancelled":
        actor = payload.get("actor")
        return {"customer": Action.CUSTOMER_CANCEL, "staff": Action.STAFF_CANCEL}.get(actor or "",
                                                                                      Action.BUSINESS_CANCEL)
    return EVENT_ACTIONS.get(kind)


def held_excluding(payment: BookingPayment, event_id: str) -> int:
    """What the customer has paid on the booking's intent and not had refunded, leaving out
    refunds made for ``event_id`` itself (so a retried job decides the same), from Stripe."""
    if not payment.payment_intent_id:
        return 0
    pi = get_payments().retrieve_payment_intent(payment.payment_intent_id)
    if pi["status"] != "succeeded":
        return 0
    refunds = [r for r in get_payments().list_refunds(pi["id"])
               if r.get("status") != "failed" and (r.get("metadata") or {}).get("plaza_event") != event_id]
    return int(pi.get("amount_received") or pi["amount"]) - sum(int(r["amount"]) for r in refunds)


def card_saved_for_fees(payment: BookingPayment) -> bool:
    """True when the booking's saved card may be charged without the customer: it was saved
    on a SetupIntent made for that (``usage=off_session``), not just to pay the deposit."""
    if not (payment.customer_stripe_id and payment.payment_method_id and payment.setup_intent_id):
        return False
    return get_payments().retrieve_setup_intent(payment.setup_intent_id).get("usage") == "off_session"


def apply_policy(booking_id: uuid.UUID, event_id: uuid.UUID) -> Decision | None:
    """Apply the money policy for outbox event ``event_id`` on ``booking_id``: decide with
    :func:`app.payments.policy.decide` as of the event's time, refund and charge through the
    gateway (idempotency keys ``policy:<event>:refund`` / ``:fee``), record the ledger.

    A fee Stripe refuses for good (declined, authentication required: :func:`card_refused`) or
    that cannot be charged (no card) is not retried: it is recorded once as ``fee.uncollected``
    (:func:`record_fee_uncollected`) and the refund part of the decision is kept in the ledger
    in the same transaction. Network errors and Stripe's 5xx raise (the job retries, same keys).

    Returns the decision, or ``None`` when the event has no money question or the booking
    has no payment. Safe to run twice.

    Raises:
        GatewayError: Stripe unreachable, rate-limited or failing (worth a retry).
    """
    event = db.session.scalar(sa.select(OutboxEvent).where(OutboxEvent.id == event_id))
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
    payment = booking_payment(booking_id)
    if event is None or booking is None or payment is None:
        return None
    action = action_for_event(event.kind, event.payload or {})
    if action is None:
        return None
    if action == Action.NO_SHOW and booking.status != BookingStatus.NO_SHOW.value:
        return None
    eid = str(event.id)
    card = card_saved_for_fees(payment)
    decision = decide(action, policy=business_policy(), price=booking.price_amount, currency=booking.currency,
                      paid=held_excluding(payment, eid), starts_at=booking.starts_at, at=event.created_at,
                      card_on_file=card)
    if not was_paid(booking.id):
        # The booking never got past its pay step (a saved card alone does not make it a
        # booking the customer committed to): no fee for walking away from it.
        decision = dataclasses.replace(decision, charge=0, uncollected=0)
    gateway = get_payments()
    if decision.refund > 0 and payment.payment_intent_id:
        done = [r for r in gateway.list_refunds(payment.payment_intent_id)
                if (r.get("metadata") or {}).get("plaza_event") == eid and r.get("status") != "failed"]
        refund = done[0] if done else gateway.create_refund(
            payment_intent=payment.payment_intent_id, amount=decision.refund,
            metadata={**intent_metadata(booking.tenant_id, booking.id, "policy"), "plaza_event": eid}, idempotency_key=f"policy:{eid}:refund")
        ledger_refund(booking.id, booking.currency, refund, f"Refund: {decision.reason}")
    charged = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(
        LedgerEntry.idempotency_key == f"policy:{eid}:fee"))
    if decision.charge > 0 and card and not charged and not fee_uncollected_for(eid):
        acct = connect_account()
        try:
            fee_pi = gateway.charge_off_session(
                amount=decision.charge, currency=booking.currency, customer=payment.customer_stripe_id or "",
                payment_method=payment.payment_method_id or "",
                metadata={**intent_metadata(booking.tenant_id, booking.id, "fee"), "plaza_event": eid, "plaza_reason": decision.reason[:200]},
                idempotency_key=f"policy:{eid}:fee", destination=acct.stripe_account_id if acct else None)
        except GatewayError as exc:
            if not card_refused(exc):
                raise  # Stripe unreachable or busy: the job's bounded retries try again (same key)
            record_fee_uncollected(booking.id, booking.currency, eid, decision.charge, refusal_reason(exc), code=exc.code)
        else:
            if fee_pi["status"] == "succeeded":
                record_ledger(kind="fee", amount=int(fee_pi.get("amount_received") or fee_pi["amount"]),
                              currency=booking.currency, key=f"policy:{eid}:fee", booking_id=booking.id,
                              payment_intent=fee_pi["id"], description=decision.reason)
            elif fee_pi["status"] in UNCOLLECTED_FEE_STATUSES:
                error = fee_pi.get("last_payment_error") or {}
                reason = refusal_reason(GatewayError(
                    str(error.get("message") or ""),
                    "authentication_required" if fee_pi["status"] == "requires_action" else error.get("code")))
                record_fee_uncollected(booking.id, booking.currency, eid, decision.charge, reason, code=fee_pi["status"],
                                        payment_intent=fee_pi["id"])
    if decision.uncollected > 0:
        record_fee_uncollected(booking.id, booking.currency, eid, decision.uncollected, "no card on file to charge", code="no_card")
    db.session.flush()
    return decision


def reschedule_refusal(tenant: Tenant, booking: Booking, now: datetime) -> str | None:
    """Why the customer may not move ``booking`` themselves at ``now`` (a sentence for them), or
    ``None``: past the free-cancellation deadline of a booking that holds money (it has a
    payment row: a payment asked or a card saved) when a late cancellation costs a fee
    (:func:`app.payments.policy.customer_may_reschedule`)."""
    policy = business_policy()
    held = booking_payment(booking.id) is not None
    if customer_may_reschedule(policy, booking.starts_at, now, money_at_stake=held):
        return None
    return (f"Free cancellation for this booking ended {policy.free_cancellation_hours} hours before the start, "
            f"so it can no longer be moved online. You can still cancel it under the cancellation policy, "
            f"or contact {tenant.name} to change the time.")


def policy_lines_for_booking(booking_id: uuid.UUID) -> list[str]:
    """The customer-facing policy sentences for a booking (for the confirmation email), or an
    empty list when the business takes no payments."""
    if not accepts_payments():
        return []
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
    if booking is None:
        return []
    return describe(business_policy(), service_rule(booking.service_id), booking.price_amount)
