"""The delivery tables: ``delivery`` (one row per outgoing transactional email, one per effect,
so each is sent once; the protocol is in :mod:`app.delivery.pipeline`) and
``notification_delivery`` (one row per notification and channel; sent by
:mod:`app.notifications.sending`)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
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


_TS = sa.DateTime(timezone=True)


class NotificationDelivery(db.Model):
    """One channel's delivery of one notification (the delivery log).

    ``status``: ``queued`` -> ``sending`` (claimed; ``claimed_at`` is the lease) -> ``sent``,
    or ``failed`` (with ``error``; retried with backoff), or ``skipped`` (``error`` says why:
    read in the app, online in the conversation, no consent, no address…). ``attempts``
    counts sends tried; ``log`` is the history ``[{"at", "status", "error"}]``.
    """

    __tablename__ = "notification_delivery"
    __table_args__ = (sa.UniqueConstraint("notification_id", "channel"),
                      sa.Index("notification_delivery_tenant", "tenant_id", "user_id"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("notification.id", ondelete="CASCADE"), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    recipient: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    provider_id: Mapped[str | None] = mapped_column(sa.String(200))
    log: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    not_before: Mapped[datetime | None] = mapped_column(_TS)
    claimed_at: Mapped[datetime | None] = mapped_column(_TS)
    sent_at: Mapped[datetime | None] = mapped_column(_TS)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)
