"""Customer payments on bookings: settings, rules, payment state, Connect account, ledger.

Money is integer minor units plus an ISO 4217 currency. :class:`LedgerEntry` is immutable:
the app role has INSERT and SELECT only, and a trigger rejects UPDATE and DELETE.
Ledger amounts are signed from the business's point of view: ``payment`` and ``fee`` are
positive (money in), ``refund`` and ``application_fee`` negative (money out).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow


def _tenant_fk(cols: list[str], table: str) -> sa.ForeignKeyConstraint:
    """Composite FK ``(tenant_id, col) -> table(tenant_id, id)``: no cross-tenant reference."""
    return sa.ForeignKeyConstraint(["tenant_id", *cols], [f"{table}.tenant_id", f"{table}.id"], ondelete="CASCADE")


class PaymentSettings(TenantScoped, db.Model):
    """A business's money policy (one row per tenant; absent = the defaults of
    :class:`app.payments.policy.BusinessPolicy`)."""

    __tablename__ = "payment_settings"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="payment_settings_one"),
                      sa.CheckConstraint("late_cancel_fee_percent between 0 and 100", name="payment_settings_late"),
                      sa.CheckConstraint("no_show_fee_percent between 0 and 100", name="payment_settings_noshow"),
                      sa.CheckConstraint("free_cancellation_hours >= 0", name="payment_settings_hours"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    free_cancellation_hours: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=24)
    late_cancel_fee_percent: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    no_show_fee_percent: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    require_card: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow,
                                                 onupdate=utcnow)


class ServicePaymentRule(TenantScoped, db.Model):
    """A service's payment mode (``none``/``deposit``/``full``); a deposit is a percentage
    (1..100) or a fixed amount in minor units."""

    __tablename__ = "service_payment_rule"
    __table_args__ = (tenant_fk(["service_id"], "service"),
                      sa.CheckConstraint("mode in ('none', 'deposit', 'full')", name="service_payment_rule_mode"))

    service_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    mode: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="none")
    deposit_percent: Mapped[int | None] = mapped_column(sa.Integer)
    deposit_fixed: Mapped[int | None] = mapped_column(sa.Integer)


class ConnectAccount(TenantScoped, db.Model):
    """The business's Stripe connected account and its status (from ``account.updated``)."""

    __tablename__ = "connect_account"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="connect_account_one"),
                      sa.UniqueConstraint("tenant_id", "stripe_account_id", name="connect_account_stripe_id"),
                      sa.Index("connect_account_stripe_lookup", "stripe_account_id"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    stripe_account_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    charges_enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    details_submitted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    payouts_enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow,
                                                 onupdate=utcnow)


class BookingPayment(TenantScoped, db.Model):
    """The payment asked for a booking, mirroring its PaymentIntent (state re-derived from Stripe).

    ``status`` is the PaymentIntent's status (``requires_payment_method`` … ``succeeded``,
    ``canceled``); ``hold_expires_at`` ends the slot hold while ``awaiting_payment``.
    ``customer_stripe_id``/``payment_method_id`` are set when a card is saved (SetupIntent).
    """

    __tablename__ = "booking_payment"
    __table_args__ = (tenant_fk(["booking_id"], "booking"),
                      sa.UniqueConstraint("tenant_id", "booking_id", name="booking_payment_one"),
                      sa.UniqueConstraint("tenant_id", "payment_intent_id", name="booking_payment_pi"),
                      sa.Index("booking_payment_pi_lookup", "payment_intent_id"),
                      sa.Index("booking_payment_hold", "hold_expires_at",
                               postgresql_where=sa.text("status <> 'succeeded'")))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    amount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    application_fee_amount: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    payment_intent_id: Mapped[str | None] = mapped_column(sa.String(64))
    client_secret: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="requires_payment_method")
    hold_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    customer_stripe_id: Mapped[str | None] = mapped_column(sa.String(64))
    setup_intent_id: Mapped[str | None] = mapped_column(sa.String(64))
    payment_method_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow,
                                                 onupdate=utcnow)


class LedgerEntry(TenantScoped, db.Model):
    """One money movement, written once (unique ``idempotency_key`` per tenant), never changed.

    ``kind``: ``payment``, ``refund``, ``fee`` (off-session charge), ``application_fee``.
    ``amount``: signed minor units (see the module docstring).
    """

    __tablename__ = "ledger_entry"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "idempotency_key", name="ledger_entry_idem"),
                      sa.CheckConstraint("kind in ('payment', 'refund', 'fee', 'application_fee')",
                                         name="ledger_entry_kind"),
                      sa.Index("ledger_entry_created", "tenant_id", "created_at"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    amount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(sa.String(64))
    stripe_refund_id: Mapped[str | None] = mapped_column(sa.String(64))
    stripe_charge_id: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class UncollectedFeeRecord(TenantScoped, db.Model):
    """A fee the money policy asked for that was not collected (the card was refused, needed
    the customer's authentication, or there was none): one row per policy event
    (``policy_event_id``, the outbox event that caused the decision), written once
    (``INSERT … ON CONFLICT DO NOTHING`` on ``uncollected_fee_once``). Staff read it on the
    booking board. ``amount`` in minor units of ``currency``; ``reason`` for people; ``code``
    Stripe's error code or our own (``no_card``); ``payment_intent`` of a refused charge."""

    __tablename__ = "uncollected_fee"
    __table_args__ = (_tenant_fk(["booking_id"], "booking"),
                      sa.UniqueConstraint("tenant_id", "policy_event_id", name="uncollected_fee_once"),
                      sa.CheckConstraint("amount >= 0", name="uncollected_fee_amount"),
                      sa.Index("uncollected_fee_booking", "tenant_id", "booking_id"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    policy_event_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    amount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    code: Mapped[str | None] = mapped_column(sa.String(64))
    payment_intent: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
