"""Plaza's application fee on customer payments, and the fees the money policy charges later:
which Stripe refusals are final and how a fee that could not be collected is recorded.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.billing.plans import current_plan
from app.extensions import db
from app.payments.events import emit_money_event
from app.payments.gateway import GatewayError
from app.payments.models import BookingPayment, UncollectedFeeRecord
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow

log = logging.getLogger("plaza.payments")


def application_fee(tenant_id: uuid.UUID, amount: int) -> int:
    """Plaza's application fee (minor units) on a customer payment of ``amount``: the tenant's
    plan's ``application_fee_bps`` (``app.billing.plans.current_plan``) of the amount, rounded
    half up."""
    bps = int(getattr(current_plan(tenant_id), "application_fee_bps", 0) or 0)
    return max(0, min(amount, (amount * bps + 5000) // 10000))


def application_fee_reversal(payment: BookingPayment | None, refund: dict) -> int:
    """The part of Plaza's application fee returned with ``refund`` of the booking's payment,
    in minor units (0 when the refund is not of that payment or it carried no fee).

    Refunds are created with ``refund_application_fee=true``, so Stripe returns the fee in
    proportion to the amount refunded (https://docs.stripe.com/connect/destination-charges#refunding-app-fee);
    each refund's share is rounded down on its own, so any order of delivery records the same
    rows and the shares never add up to more than the fee.
    """
    if payment is None or not payment.application_fee_amount or not payment.amount:
        return 0
    if refund.get("payment_intent") != payment.payment_intent_id:
        return 0
    return payment.application_fee_amount * int(refund["amount"]) // payment.amount


#: Statuses of an off-session fee PaymentIntent that will not turn into money without the customer.
UNCOLLECTED_FEE_STATUSES = frozenset({"requires_action", "requires_payment_method", "canceled"})


#: Stripe error codes that say the card (or the customer's saved card) cannot pay, for good.
CARD_REFUSALS = frozenset({"card_declined", "authentication_required", "expired_card", "incorrect_cvc",
                           "insufficient_funds", "processing_error", "incorrect_number", "resource_missing"})


def card_refused(exc: GatewayError) -> bool:
    """True when Stripe refused the card itself (HTTP 402, a card error, or a saved card or
    customer that no longer exists: 404), so repeating the charge with the same idempotency key
    can only fail again; False for network errors, rate limits, Stripe's 5xx and our own
    mistakes (a bad API key, an invalid request), which must be retried or fixed, never
    written off. (https://docs.stripe.com/error-codes)"""
    return exc.status in (402, 404) or exc.code in CARD_REFUSALS


def refusal_reason(exc: GatewayError) -> str:
    """Why a fee could not be charged, in words for staff."""
    if exc.code == "authentication_required":
        return "the customer's bank asked them to authenticate the payment, which is not possible while they are away"
    return str(exc) or exc.code or "the card was declined"


def fee_uncollected_for(event_id: str) -> bool:
    """Whether the fee of policy event ``event_id`` was already recorded as not collected."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(UncollectedFeeRecord).where(
        UncollectedFeeRecord.policy_event_id == event_id)) > 0


def record_fee_uncollected(booking_id: uuid.UUID, currency: str, event_id: str, amount: int, reason: str, *,
                           code: str | None, payment_intent: str | None = None) -> bool:
    """Record, once per policy event ``event_id``, that a fee of ``amount`` (minor units of
    ``currency``) the policy asked for on booking ``booking_id`` was not collected: a row of
    ``uncollected_fee`` (:class:`~app.payments.models.UncollectedFeeRecord`, inserted with
    ``ON CONFLICT DO NOTHING`` on the policy event) and, when that row is new, the outbox event
    ``fee.uncollected`` (``booking_id``, ``amount``, ``currency``, ``reason`` for people,
    ``code``, ``event``, ``payment_intent`` of a refused charge) so staff are notified. Staff
    see the row in :func:`app.payments.queries.payment_summary`. Returns True when written."""
    log.warning("fee not collected", extra={"booking_id": str(booking_id), "amount": amount, "code": code})
    inserted = db.session.execute(pg_insert(UncollectedFeeRecord).values(
        tenant_id=require_tenant_id(), id=uuid.uuid4(), booking_id=booking_id, policy_event_id=event_id,
        amount=amount, currency=currency.upper(), reason=reason[:300], code=code, payment_intent=payment_intent,
        created_at=utcnow()).on_conflict_do_nothing(constraint="uncollected_fee_once")
        .returning(UncollectedFeeRecord.id)).scalar() is not None
    if not inserted:
        return False
    emit_money_event("fee.uncollected", f"fee.uncollected:{event_id}", booking_id=str(booking_id),
                     amount=amount, currency=currency, reason=reason[:300], code=code,
                     event=event_id, payment_intent=payment_intent)
    return True
