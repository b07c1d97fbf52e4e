"""The delivery log as people read it: what was sent to one customer of the business in
scope (booking emails from the booking-email path and every notification channel), and a
person's own log per notification.

Reads only; the tenant must be in scope for :func:`sent_to_customer`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.delivery.models import Delivery, NotificationDelivery
from app.extensions import db
from app.notifications.center_models import Notification
from app.tenants.context import require_tenant_id


@dataclass(frozen=True)
class SentRow:
    """One line of the log: ``what`` (subject or title), ``channel``, ``status`` (queued,
    sending, sent, failed, skipped), ``attempts``, ``error`` (or the skip reason), times (UTC)."""

    what: str
    kind: str
    channel: str
    recipient: str
    status: str
    attempts: int
    error: str | None
    created_at: datetime
    sent_at: datetime | None

    @property
    def retried(self) -> bool:
        """True when it took more than one attempt."""
        return self.attempts > 1


def sent_to_customer(customer_email: str, customer_user_id: uuid.UUID | None, limit: int = 200) -> list[SentRow]:
    """Everything this business sent (or tried to) to the customer, newest first.

    Booking emails are matched by the customer's address in the business's ``delivery`` rows;
    notifications by the customer's account, restricted to this business's ``tenant_id``.
    """
    tenant_id = require_tenant_id()
    email = customer_email.lower()
    rows: list[SentRow] = []
    legacy = db.session.scalars(
        sa.select(Delivery).where(sa.or_(sa.func.lower(Delivery.recipient) == email,
                                         sa.func.lower(Delivery.recipient).contains(f"<{email}>", autoescape=True)))
        .order_by(Delivery.created_at.desc()).limit(limit))
    for d in legacy:
        rows.append(SentRow(d.subject, d.dedup_key.split(":")[2] if d.dedup_key.count(":") >= 2 else "email",
                            d.channel, d.recipient, d.status, d.attempts, d.error, d.created_at, d.sent_at))
    if customer_user_id is not None:
        notes = db.session.execute(
            sa.select(NotificationDelivery, Notification.title, Notification.type)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .where(NotificationDelivery.tenant_id == tenant_id, Notification.tenant_id == tenant_id,
                   NotificationDelivery.user_id == customer_user_id)
            .order_by(NotificationDelivery.created_at.desc()).limit(limit))
        for d, title, type_key in notes:
            rows.append(SentRow(title, type_key, d.channel, d.recipient, d.status, d.attempts, d.error,
                                d.created_at, d.sent_at))
    rows.sort(key=lambda r: r.created_at, reverse=True)
    return rows[:limit]


def deliveries_of(user_id: uuid.UUID, notification_id: uuid.UUID) -> list[NotificationDelivery]:
    """The person's delivery log of one of their notifications (empty for someone else's)."""
    return list(db.session.scalars(sa.select(NotificationDelivery).where(
        NotificationDelivery.user_id == user_id, NotificationDelivery.notification_id == notification_id)
        .order_by(NotificationDelivery.channel)))
