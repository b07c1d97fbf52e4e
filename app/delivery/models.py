"""The ``delivery`` table: one row per outgoing email (one per effect), so each is sent once
(the protocol is in :mod:`app.delivery.pipeline`)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


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
