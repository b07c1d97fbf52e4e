"""Read models of booking payments for staff and customers (labels for people live in the
templates). Tenant in scope; read-only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.payments.models import BookingPayment, LedgerEntry, UncollectedFeeRecord


@dataclass(frozen=True)
class UncollectedFee:
    """A fee the policy asked for that was not collected: ``amount`` (minor units) and ``reason``."""

    amount: int
    reason: str


@dataclass(frozen=True)
class PaymentSummary:
    """What staff and customers see about a booking's money: ``due`` (asked at booking),
    ``paid``, ``refunded``, ``fees`` (charged later), all minor units; ``status``; ``hold_expires_at``;
    ``uncollected``: fees the policy asked for that were not collected (for staff)."""

    status: str
    currency: str
    due: int
    paid: int
    refunded: int
    fees: int
    hold_expires_at: datetime | None
    uncollected: tuple[UncollectedFee, ...] = ()



def payment_summaries(booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, PaymentSummary]:
    """The payment summary of each booking in ``booking_ids`` that has a payment (tenant in
    scope), from three queries whatever the number of bookings: payment rows, ledger sums by
    kind, and ``uncollected_fee`` rows."""
    if not booking_ids:
        return {}
    payments = {p.booking_id: p for p in db.session.scalars(
        sa.select(BookingPayment).where(BookingPayment.booking_id.in_(booking_ids)))}
    if not payments:
        return {}
    ids = list(payments)
    sums: dict[tuple[uuid.UUID, str], int] = {
        (bid, kind): int(total) for bid, kind, total in db.session.execute(
            sa.select(LedgerEntry.booking_id, LedgerEntry.kind, sa.func.sum(LedgerEntry.amount))
            .where(LedgerEntry.booking_id.in_(ids)).group_by(LedgerEntry.booking_id, LedgerEntry.kind))}
    uncollected: dict[uuid.UUID, list[UncollectedFee]] = {}
    for row in db.session.scalars(sa.select(UncollectedFeeRecord).where(UncollectedFeeRecord.booking_id.in_(ids))
                                  .order_by(UncollectedFeeRecord.created_at, UncollectedFeeRecord.id)):
        uncollected.setdefault(row.booking_id, []).append(UncollectedFee(row.amount, row.reason))
    return {bid: PaymentSummary(
        status=p.status, currency=p.currency, due=p.amount, paid=sums.get((bid, "payment"), 0),
        refunded=-sums.get((bid, "refund"), 0), fees=sums.get((bid, "fee"), 0), hold_expires_at=p.hold_expires_at,
        uncollected=tuple(uncollected.get(bid, ()))) for bid, p in payments.items()}


def payment_summary(booking_id: uuid.UUID) -> PaymentSummary | None:
    """The payment summary of booking ``booking_id`` from its payment row, ledger and
    uncollected fees, or ``None`` (no payment)."""
    return payment_summaries([booking_id]).get(booking_id)
