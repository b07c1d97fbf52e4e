"""Stripe chargebacks (``charge.dispute.created|updated|closed``) as disputes.

``HANDLERS[event_type](event)`` takes the verified event (Stripe's JSON shape; ``data.object`` a
Dispute: ``id``, ``payment_intent``, ``amount``, ``currency``, ``reason``, ``status``,
``evidence_details.due_by`` in Unix seconds). The billing webhook job dispatches here (it routes
``charge.dispute.*`` to this module by dotted path).

Idempotent and order-safe: the case is found by the Stripe dispute id (unique per business) and
upserted from the object's state; a final Stripe status (``won``, ``lost``, ``warning_closed``)
is never replaced by an earlier, non-final one arriving late. A chargeback on a booking whose
customer already has an open dispute is attached to that dispute, so one booking has one record.
Handlers put the owning business in scope, flush and never commit; they return a short outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from app.audit.service import SYSTEM_ACTOR, record_audit
from app.booking.models import Booking
from app.customers.ownership import account_of
from app.disputes.models import Dispute, DisputeKind, DisputeStatus
from app.disputes.refunds import refundable_amount
from app.disputes.service import ACTIVE, announce, snapshot
from app.disputes.settings import answer_time
from app.extensions import db
from app.payments.models import BookingPayment
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow

#: Stripe's final dispute statuses.
FINAL = frozenset({"won", "lost", "warning_closed"})
#: Stripe's dispute reason -> our reason code.
REASONS = {"product_not_received": "not_attended", "fraudulent": "charged_wrongly", "duplicate": "charged_wrongly",
           "subscription_canceled": "charged_wrongly", "credit_not_processed": "charged_wrongly",
           "incorrect_account_details": "charged_wrongly", "product_unacceptable": "poor_quality"}


def _tenant_and_booking(payment_intent: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    with platform_scope("stripe dispute webhook: find the payment's business"):
        row = db.session.execute(sa.select(BookingPayment.tenant_id, BookingPayment.booking_id).where(
            BookingPayment.payment_intent_id == payment_intent)).first()
    return (row[0], row[1]) if row else None


def _due(obj: dict) -> datetime | None:
    raw = (obj.get("evidence_details") or {}).get("due_by")
    return datetime.fromtimestamp(int(raw), UTC) if raw else None


def sync_stripe_dispute(obj: dict, now: datetime | None = None) -> str:
    """Upsert the case of Stripe Dispute ``obj`` (see the module docstring) in its business;
    ``"ignored"`` for a payment Plaza does not know, else ``"created"``, ``"attached"``,
    ``"updated"``, ``"closed"`` or ``"unchanged"``. Audited as the system and announced on change."""
    now = now or utcnow()
    pi = obj.get("payment_intent")
    pi = pi if isinstance(pi, str) else (pi or {}).get("id")
    found = _tenant_and_booking(pi) if pi and obj.get("id") else None
    if found is None:
        return "ignored"
    tenant_id, booking_id = found
    with tenant_scope(tenant_id):
        outcome = _upsert(obj, booking_id, now)
        db.session.flush()
    return outcome


def _upsert(obj: dict, booking_id: uuid.UUID, now: datetime) -> str:
    stripe_status, due = str(obj.get("status") or ""), _due(obj)
    case = db.session.scalar(sa.select(Dispute).where(Dispute.stripe_dispute_id == obj["id"]).with_for_update())
    outcome = "updated"
    if case is None:
        case = db.session.scalar(sa.select(Dispute).where(
            Dispute.booking_id == booking_id, Dispute.kind == DisputeKind.DISPUTE, Dispute.status.in_(ACTIVE),
            Dispute.stripe_dispute_id.is_(None)).with_for_update())
        outcome = "attached"
    if case is None:
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        if booking is None:
            return "ignored"
        deadline = now + answer_time(DisputeKind.DISPUTE)
        # Stored data (the case's own text, like a customer's), kept in English as Stripe reports it.
        note = f"Card chargeback opened with the card issuer (reason: {obj.get('reason') or 'unknown'})."
        case = Dispute(kind=DisputeKind.DISPUTE.value, booking_id=booking_id, customer_id=booking.customer_id,
                       customer_user_id=account_of(booking.customer_id),
                       reason=REASONS.get(str(obj.get("reason") or ""), "other"),
                       description=note,
                       status=DisputeStatus.AWAITING_BUSINESS.value,
                       paid_amount=max(refundable_amount(booking_id), int(obj.get("amount") or 0)),
                       currency=str(obj.get("currency") or booking.currency).upper(),
                       business_due_at=min(deadline, due) if due else deadline, created_at=now, updated_at=now)
        db.session.add(case)
        outcome = "created"
    elif case.stripe_status in FINAL and stripe_status not in FINAL:
        return "unchanged"  # a late, older event after the final one
    elif case.stripe_status == stripe_status and case.stripe_dispute_id == obj["id"]:
        return "unchanged"
    before = snapshot(case) if outcome != "created" else None
    case.stripe_dispute_id, case.stripe_status, case.stripe_evidence_due_at = obj["id"], stripe_status, due
    case.updated_at = now
    if stripe_status in FINAL and case.status != DisputeStatus.CLOSED.value:
        lost = stripe_status == "lost"
        case.decision = "full_refund" if lost else "rejected"
        case.refund_amount = min(case.paid_amount, int(obj.get("amount") or 0)) if lost else 0
        case.decision_reason = (f"The card issuer decided the chargeback: {stripe_status.replace('_', ' ')}."
                                + (" The amount went back to the card." if lost else ""))
        case.decided_at, case.status = now, DisputeStatus.CLOSED.value
        outcome = "closed" if outcome == "updated" else outcome
    db.session.flush()
    record_audit(SYSTEM_ACTOR, f"dispute.stripe_{outcome}", "dispute", case.id, reason=f"Stripe {obj['id']}: {stripe_status}",
                 before=before, after=snapshot(case))
    announce(case, "decided" if case.status == DisputeStatus.CLOSED.value else "stripe")
    return outcome


def handle_dispute(event: dict) -> str:
    """``charge.dispute.*``: :func:`sync_stripe_dispute` of the event's Dispute object."""
    return sync_stripe_dispute(((event.get("data") or {}).get("object")) or {})


#: Stripe event type -> handler (routed here by :func:`app.billing.webhooks.payment_handler`).
HANDLERS: dict[str, Callable[[dict], str]] = {
    f"charge.dispute.{s}": handle_dispute for s in (
        "created", "updated", "closed", "funds_withdrawn", "funds_reinstated")}
