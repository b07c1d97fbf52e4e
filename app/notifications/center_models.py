"""Tables of the notification system. All are platform-level (not tenant-scoped): a
notification belongs to one person across every business they deal with, so every read
filters strictly by ``user_id``; ``tenant_id`` (nullable) says which business it is about
and is what an owner's "sent to this customer" view filters on.

* :class:`Notification` - one per recipient; the in-app notification center lists these.
* :class:`NotificationSource` - which source events already produced a notification for a
  person (so a relayed-twice outbox event notifies once, even when folded).
* :class:`app.delivery.models.Delivery` - the delivery log: one row per notification and
  channel, in the one delivery table (part of the delivery pipeline).
* :class:`NotificationPreference` - a person's explicit choice per type and channel.
* :class:`MarketingConsent` - when and how a person agreed to (or withdrew from) marketing.
* :class:`PushSubscription` - a browser's Web Push subscription.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

_TS = sa.DateTime(timezone=True)


def _user_fk() -> sa.ForeignKey:
    return sa.ForeignKey("user_account.id", ondelete="CASCADE")


class Notification(db.Model):
    """One notification for one person.

    ``type`` is a registry key; ``audience`` the role it was rendered for; ``subject_key``
    what it is about (``booking:<id>``, ``conversation:<id>``); ``context`` the flat string
    context its templates render from; ``count`` how many repeats were folded into it inside
    the dedup window. ``read_at``/``archived_at`` drive the center's tabs.
    """

    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("notification_user_inbox", "user_id", "archived_at", "created_at"),
        sa.Index("notification_user_unread", "user_id", postgresql_where=sa.text("read_at is null and archived_at is null")),
        sa.Index("notification_fold", "user_id", "type", "subject_key", "updated_at"),
        sa.Index("notification_tenant", "tenant_id", "user_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, _user_fk(), nullable=False)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    audience: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="transactional")
    subject_key: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    title: Mapped[str] = mapped_column(sa.String(250), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    url: Mapped[str] = mapped_column(sa.String(1000), nullable=False, default="")
    context: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(_TS)
    archived_at: Mapped[datetime | None] = mapped_column(_TS)


class NotificationSource(db.Model):
    """``(user_id, source_key)`` seen: the source event already notified this person."""

    __tablename__ = "notification_source"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, _user_fk(), primary_key=True)
    source_key: Mapped[str] = mapped_column(sa.String(250), primary_key=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("notification.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)


class NotificationPreference(db.Model):
    """A person's explicit on/off for one notification type on one channel (absent: the default)."""

    __tablename__ = "notification_preference"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, _user_fk(), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)


class MarketingConsent(db.Model):
    """A record of marketing consent: given at ``granted_at`` by ``method`` from ``source``
    (page or link), optionally for one business (``tenant_id``); ``withdrawn_at`` and
    ``withdrawn_method`` when taken back. Rows are never deleted (they are the evidence)."""

    __tablename__ = "marketing_consent"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, _user_fk(), nullable=False, index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"))
    granted_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)
    method: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    source: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    withdrawn_at: Mapped[datetime | None] = mapped_column(_TS)
    withdrawn_method: Mapped[str | None] = mapped_column(sa.String(80))


class PushSubscription(db.Model):
    """A browser's Web Push subscription (``endpoint`` plus its ``p256dh``/``auth`` keys)."""

    __tablename__ = "push_subscription"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, _user_fk(), nullable=False, index=True)
    endpoint: Mapped[str] = mapped_column(sa.String(1000), nullable=False, unique=True)
    p256dh: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    auth: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    user_agent: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(_TS, nullable=False, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(_TS)
    disabled_at: Mapped[datetime | None] = mapped_column(_TS)
