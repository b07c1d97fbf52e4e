"""The ``broadcast`` and ``broadcast_recipient`` tables (platform-level: no ``tenant_id``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

_TS = sa.DateTime(timezone=True)

#: Values of :attr:`Broadcast.status`, in the order a broadcast moves through them.
DRAFT, SCHEDULED, SENDING, SENT, STOPPED = "draft", "scheduled", "sending", "sent", "stopped"
#: Values of :attr:`BroadcastRecipient.status`.
PENDING, DONE, SKIPPED = "pending", "done", "skipped"


class Broadcast(db.Model):
    """A message from the platform to an audience of businesses (their owners) or consenting customers.

    ``audience`` the filters as JSON (``kind`` ``"businesses"`` or ``"customers"``, and ``plan``,
    ``country``, ``category``, ``city``, ``tenant_id`` as chosen; see
    :class:`app.broadcasts.audience.Audience`); ``channels`` ``inapp``/``email``; ``status`` one of
    ``draft``/``scheduled``/``sending``/``sent``/``stopped``; ``send_at`` when it starts (tz-aware
    UTC); ``total`` the recipients frozen when sending starts and ``done`` how many were handled.
    """

    __tablename__ = "broadcast"
    __table_args__ = (
        sa.CheckConstraint("status in ('draft', 'scheduled', 'sending', 'sent', 'stopped')", name="broadcast_status"),
        sa.Index("broadcast_due", "status", "send_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    audience: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    subject: Mapped[str] = mapped_column(sa.String(150), nullable=False, default="")
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    channels: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.String(16)), nullable=False, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=DRAFT)
    send_at: Mapped[datetime | None] = mapped_column(_TS)
    started_at: Mapped[datetime | None] = mapped_column(_TS)
    finished_at: Mapped[datetime | None] = mapped_column(_TS)
    stopped_at: Mapped[datetime | None] = mapped_column(_TS)
    total: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    done: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)


class BroadcastRecipient(db.Model):
    """One person a broadcast goes to, once: the primary key ``(broadcast_id, user_id)`` is the
    broadcast's dedup key per person. ``status`` ``pending`` until a batch handles it, then ``done``
    (notified) or ``skipped`` (with ``reason``: consent withdrawn, account closed, stopped…)."""

    __tablename__ = "broadcast_recipient"
    __table_args__ = (sa.Index("broadcast_recipient_pending", "broadcast_id", "status"),)

    broadcast_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("broadcast.id", ondelete="CASCADE"),
                                                    primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                               primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=PENDING)
    reason: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    notification_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    handled_at: Mapped[datetime | None] = mapped_column(_TS)
