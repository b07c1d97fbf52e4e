"""The ``credit_account`` and ``credit_entry`` tables: a provider's lead credits.

Both are tenant tables (``TenantScoped``, RLS). ``credit_account`` holds the running balance, one
row per business, with ``CHECK (balance >= 0)``: the database refuses any change that would take
it below zero. ``credit_entry`` is the append-only ledger (no role may UPDATE or DELETE it:
``migrations.rls.apply_grants``): every change of the balance is one entry with the balance
before and after, written in the same transaction as the balance update. ``idempotency_key`` is
unique per business, so a retried grant (a Stripe Checkout session id, a refund of one claim)
is written at most once.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


class CreditEntryKind(enum.StrEnum):
    """Why the balance moved: ``purchase`` (a pack bought through Stripe Checkout), ``claim`` (a
    lead claimed, negative), ``refund`` (a claim's credits returned), ``grant`` (given by the
    platform: welcome credits, goodwill), ``adjustment`` (a platform admin's correction, either sign)."""

    PURCHASE = "purchase"
    CLAIM = "claim"
    REFUND = "refund"
    GRANT = "grant"
    ADJUSTMENT = "adjustment"


class CreditAccount(TenantScoped, db.Model):
    """A business's credit balance (whole credits, never negative)."""

    __tablename__ = "credit_account"
    __table_args__ = (sa.CheckConstraint("balance >= 0", name="credit_account_not_negative"),)

    balance: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class CreditEntry(TenantScoped, db.Model):
    """One ledger entry: ``amount`` credits (negative for a claim), ``balance_before`` and
    ``balance_after`` (``= before + amount``, never negative), ``kind`` (:class:`CreditEntryKind`),
    ``idempotency_key`` (unique per business), optional ``lead_id`` and ``checkout_session_id``,
    ``money_amount``/``money_currency`` paid for a purchase (minor units, ISO 4217), ``actor_user_id``
    and a ``note``; ``seq`` orders entries (unique per business)."""

    __tablename__ = "credit_entry"
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="credit_entry_idempotent"),
        sa.UniqueConstraint("tenant_id", "seq", name="credit_entry_seq"),
        sa.CheckConstraint("balance_after >= 0 and balance_before >= 0", name="credit_entry_not_negative"),
        sa.CheckConstraint("balance_after = balance_before + amount", name="credit_entry_adds_up"),
        sa.CheckConstraint("amount <> 0", name="credit_entry_moves"),
        sa.CheckConstraint("kind in ('purchase', 'claim', 'refund', 'grant', 'adjustment')", name="credit_entry_kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    amount: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    balance_before: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    balance_after: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    checkout_session_id: Mapped[str | None] = mapped_column(sa.String(255))
    money_amount: Mapped[int | None] = mapped_column(sa.Integer)
    money_currency: Mapped[str | None] = mapped_column(sa.String(3))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    note: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
