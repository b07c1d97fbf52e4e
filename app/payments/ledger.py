"""The append-only money ledger: one :class:`LedgerEntry` per money movement, each with a
unique idempotency key, so replays record nothing twice.

Tenant in scope; functions flush (or insert) and never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.audit.service import record_audit, request_actor
from app.extensions import db
from app.payments.events import emit_money_event, late_refund_told
from app.payments.fees import application_fee_reversal
from app.payments.holds import booking_payment
from app.payments.models import LedgerEntry
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow


def N_(text: str) -> str:  # noqa: N802 - the name gettext tools extract by default
    """Mark ``text`` (an English ledger description, stored as written) for extraction into the
    catalogue without translating it now; pages translate it when they show it."""
    return text


def record_ledger(*, kind: str, amount: int, currency: str, key: str, booking_id: uuid.UUID | None = None,
                  payment_intent: str | None = None, refund: str | None = None, charge: str | None = None,
                  description: str = "", at: datetime | None = None) -> bool:
    """Append one ledger row unless ``key`` was already recorded; True when inserted.

    ``amount`` is signed minor units (payment/fee positive, refund/application_fee negative).
    """
    stmt = pg_insert(LedgerEntry).values(
        tenant_id=require_tenant_id(), id=uuid.uuid4(), kind=kind, amount=amount, currency=currency.upper(),
        booking_id=booking_id, stripe_payment_intent_id=payment_intent, stripe_refund_id=refund,
        stripe_charge_id=charge, description=description[:300], idempotency_key=key, created_at=at or utcnow(),
    ).on_conflict_do_nothing(constraint="ledger_entry_idem").returning(LedgerEntry.id)
    return db.session.execute(stmt).scalar() is not None


def ledger_entries(limit: int | None = None) -> list[LedgerEntry]:
    """The current tenant's ledger, newest first."""
    q = sa.select(LedgerEntry).order_by(LedgerEntry.created_at.desc(), LedgerEntry.id)
    if limit:
        q = q.limit(limit)
    return list(db.session.scalars(q))


#: Ledger kinds that move the customer's money on a booking (payment positive, refund negative).
CUSTOMER_MONEY_KINDS = ("payment", "refund")


def paid_amounts(booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """What customers have paid on each of ``booking_ids`` so far, net of refunds (minor units of
    the booking's currency), in one query; a booking with no payment is absent."""
    if not booking_ids:
        return {}
    rows = db.session.execute(
        sa.select(LedgerEntry.booking_id, sa.func.sum(LedgerEntry.amount))
        .where(LedgerEntry.booking_id.in_(booking_ids), LedgerEntry.kind.in_(CUSTOMER_MONEY_KINDS))
        .group_by(LedgerEntry.booking_id))
    return {booking_id: int(total) for booking_id, total in rows}


def ledger_refund(booking_id: uuid.UUID, currency: str, refund: dict, description: str, notify: bool = True) -> None:
    """Record Stripe refund ``refund`` (its JSON shape; ``amount`` minor units) of booking
    ``booking_id`` once it has succeeded (a pending one is recorded by the sync that sees it
    succeed; a failed or cancelled one never is), with Plaza's returned fee; with ``notify``
    also the ``refund.issued`` event (unless ``payment.late_refund`` tells the customer)."""
    if refund.get("status") != "succeeded":
        return
    if record_ledger(kind="refund", amount=-int(refund["amount"]), currency=currency,
                     key=f"refund:{refund['id']}", booking_id=booking_id, payment_intent=refund.get("payment_intent"),
                     refund=refund["id"], charge=refund.get("charge"), description=description):
        record_audit(request_actor(), "payment.refunded", "booking", booking_id, reason=description,
                     after={"refund": refund["id"], "amount": int(refund["amount"]), "currency": currency})
    reversal = application_fee_reversal(booking_payment(booking_id), refund)
    if reversal:
        record_ledger(kind="application_fee", amount=reversal, currency=currency,
                      key=f"refund:{refund['id']}:application_fee", booking_id=booking_id,
                      payment_intent=refund.get("payment_intent"), refund=refund["id"],
                      description=N_("Plaza application fee returned with the refund"))
    if notify and not late_refund_told(refund.get("payment_intent")):
        emit_money_event("refund.issued", f"refund.issued:{refund['id']}", booking_id=str(booking_id),
                         payment_intent=refund.get("payment_intent"), refund=refund["id"],
                         amount=int(refund["amount"]))
