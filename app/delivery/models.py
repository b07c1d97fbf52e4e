"""The one delivery table: ``delivery``, one row per outgoing message on one channel, sent once
(the protocol is in :mod:`app.delivery.pipeline`).

Two kinds of row share it:

* a **notification's** delivery (``notification_id`` and ``user_id`` set): one per notification
  and channel (``inapp``, ``email``, ``push``, ``sms``), written by
  :mod:`app.notifications.dispatch`, sent by :mod:`app.notifications.sending`;
* a **direct** message to a recipient without an account (a guest's booking emails and
  reminders, a guest's new-message email, a staff member's email without an account):
  ``notification_id`` and ``user_id`` are null.

``dedup_key`` is unique per business (``tenant_id``, null for a person's account-wide
notifications), so each message goes out once whichever path asks for it: a booking email has
the same key whether it goes to a guest directly or to an account holder through their
notification.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.context import current_tenant_id
from app.timeutil import utcnow

_TS = sa.DateTime(timezone=True)

#: Statuses: ``queued`` -> ``sending`` (claimed; ``claimed_at`` is the lease) -> ``sent``, or
#: ``failed`` (retried), ``skipped`` (final, ``error`` says why) or ``undeliverable`` (final).
STATUSES = ("queued", "sending", "sent", "failed", "skipped", "undeliverable")


class Delivery(db.Model):
    """One outgoing message on one channel, unique per ``(tenant_id, dedup_key)`` and per
    ``(notification_id, channel)``, so it is sent once.

    ``recipient`` is the address (email, phone, ``<n> device(s)``, the user id for in-app);
    ``attempts`` counts sends tried; ``log`` is the history ``[{"at", "status", "error"}]``;
    ``not_before`` delays the send (a new-message email waits for the person to read it);
    times are tz-aware UTC. A new row takes the tenant in scope when none is given.
    """

    __tablename__ = "delivery"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "dedup_key", name="delivery_dedup_key"),
                      sa.UniqueConstraint("notification_id", "channel", name="delivery_notification_channel"),
                      sa.Index("delivery_tenant_user", "tenant_id", "user_id"),
                      sa.Index("delivery_open", "status", "claimed_at",
                               postgresql_where=sa.text("status in ('queued', 'sending')")))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"), index=True, default=current_tenant_id)
    dedup_key: Mapped[str] = mapped_column(sa.String(250), nullable=False)
    notification_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid, sa.ForeignKey("notification.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="email")
    recipient: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    subject: Mapped[str] = mapped_column(sa.String(250), nullable=False, default="")
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

    @property
    def kind(self) -> str:
        """What the message is, read from the dedup key's third part (``confirmed``,
        ``reminder24``, ``staff-request``…), else the channel."""
        parts = self.dedup_key.split(":")
        return parts[2] if len(parts) >= 3 and parts[0] == "booking" else self.channel
