"""Money for a case: what the customer paid and has not had back, and the refund a decision
makes through Stripe (the payments gateway) into the append-only ledger.

Tenant in scope; functions flush and never commit.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _

from app.disputes.errors import InvalidMove
from app.extensions import db
from app.payments.gateway import get_payments
from app.payments.holds import booking_payment, intent_metadata
from app.payments.ledger import ledger_refund, paid_amounts


def refundable_amount(booking_id: uuid.UUID) -> int:
    """What the customer paid for ``booking_id`` and has not had refunded, in minor units,
    from the ledger (0 for an unpaid booking)."""
    return max(0, paid_amounts([booking_id]).get(booking_id, 0))


def refund_for_case(*, tenant_id: uuid.UUID, booking_id: uuid.UUID, case_id: uuid.UUID, amount: int,
                    currency: str, description: str) -> dict:
    """Refund ``amount`` minor units of the booking's payment for case ``case_id`` through Stripe
    (idempotency key ``dispute:<case>:refund``; a refund already made for the case is reused, so a
    retried request refunds once), record it in the ledger and tell the customer (``refund.issued``).

    Returns Stripe's Refund (its JSON shape).

    Raises:
        InvalidMove: the booking has no payment to refund, or ``amount`` exceeds what is refundable.
        app.payments.gateway.GatewayError: Stripe refused or is unreachable.
    """
    payment = booking_payment(booking_id)
    if payment is None or not payment.payment_intent_id:
        raise InvalidMove(_("This booking has no card payment to refund."))
    gateway = get_payments()
    done = [r for r in gateway.list_refunds(payment.payment_intent_id)
            if (r.get("metadata") or {}).get("plaza_dispute") == str(case_id) and r.get("status") != "failed"]
    if done:
        refund = done[0]
    else:
        if amount > refundable_amount(booking_id):
            raise InvalidMove(_("The refund is more than the customer paid and has not had back."))
        refund = gateway.create_refund(
            payment_intent=payment.payment_intent_id, amount=amount,
            metadata={**intent_metadata(tenant_id, booking_id, "dispute"), "plaza_dispute": str(case_id)},
            idempotency_key=f"dispute:{case_id}:refund")
    ledger_refund(booking_id, currency, refund, description)
    db.session.flush()
    return refund
