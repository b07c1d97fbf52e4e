"""Outbox events (written in the domain's transaction) and deliveries (one per effect)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


class OutboxEvent(TenantScoped, db.Model):
    """Something that happened and must cause side effects once its transaction commits.

    ``kind`` e.g. ``booking.confirmed``; ``payload`` holds primitive ids only.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (
        sa.Index("outbox_unrelayed", "created_at", postgresql_where=sa.text("relayed_at is null")),
        # migration e1_outbox_lookups: dedup keys of money events, uncollected fees by booking
        sa.Index("outbox_event_kind_key", "tenant_id", "kind", sa.text("(payload ->> 'key')")),
        sa.Index("outbox_event_fee_uncollected", "tenant_id", sa.text("(payload ->> 'booking_id')"),
                 postgresql_where=sa.text("kind = 'fee.uncollected'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    relayed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Delivery(TenantScoped, db.Model):
    """One outgoing message, unique per ``dedup_key`` so it is sent once.

    ``status``: ``sending`` (claimed; ``claimed_at`` is the lease), ``sent``, ``failed``, or
    ``skipped`` (not sent, final; ``error`` says why, e.g. the recipient's hourly cap).
    """

    __tablename__ = "delivery"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "dedup_key"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    dedup_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    channel: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="email")
    recipient: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    subject: Mapped[str] = mapped_column(sa.String(250), nullable=False, default="")
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
