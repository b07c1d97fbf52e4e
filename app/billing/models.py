"""Billing tables: the platform-level Stripe webhook ledger and each tenant's subscription row.

``billing_subscription`` is derived state: only :mod:`app.billing.service` writes it, from the
object re-fetched from Stripe, never by incrementing.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


class StripeWebhookEvent(db.Model):
    """One Stripe event as received (platform-level, not tenant-scoped): ``id`` is Stripe's
    event id (unique, so a redelivery is recognised), ``payload`` the verified JSON body,
    ``processed_at`` set once its job derived state from it, ``error`` the last failure."""

    __tablename__ = "stripe_webhook_event"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False)
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)


class BillingSubscription(TenantScoped, db.Model):
    """A business's Plaza subscription as last seen at Stripe (one row per tenant).

    ``status`` is Stripe's (``incomplete``, ``trialing``, ``active``, ``past_due``, ``unpaid``,
    ``canceled``, ``incomplete_expired``) or ``none`` before a subscription exists; ``plan`` the
    plan code of ``price_id``; ``past_due_since`` when the unpaid invoice was created (drives
    the grace period). Instants are UTC.
    """

    __tablename__ = "billing_subscription"
    __table_args__ = (sa.UniqueConstraint("tenant_id", name="billing_subscription_one"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    stripe_customer_id: Mapped[str] = mapped_column(sa.String(255), nullable=False, index=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    status: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="none")
    price_id: Mapped[str | None] = mapped_column(sa.String(255))
    plan: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="free")
    current_period_end: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancel_at_period_end: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    trial_end: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    past_due_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    latest_invoice_id: Mapped[str | None] = mapped_column(sa.String(255))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
