"""The delivery log as people read it, from the one ``delivery`` table: what was sent to one
customer of the business in scope (direct emails to a guest and every channel of their
account's notifications), and a person's own log per notification.

Reads only; the tenant must be in scope for :func:`sent_to_customer`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.delivery.models import Delivery
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


def sent_to_customer(customer_email: str | None, customer_user_id: uuid.UUID | None, limit: int = 200) -> list[SentRow]:
    """Everything this business sent (or tried to) to the customer, newest first, from the one
    ``delivery`` table: direct messages matched by the customer's address, and the deliveries of
    the notifications of the customer's account (``customer_user_id``) about this business.
    A customer without an email (``None``) has only their account's deliveries.
    """
    tenant_id = require_tenant_id()
    email = (customer_email or "").lower()
    to_address = sa.and_(Delivery.notification_id.is_(None), sa.or_(
        sa.func.lower(Delivery.recipient) == email,
        sa.func.lower(Delivery.recipient).contains(f"<{email}>", autoescape=True))) if email else sa.false()
    mine = to_address if customer_user_id is None else sa.or_(to_address, Delivery.user_id == customer_user_id)
    rows = db.session.execute(
        sa.select(Delivery, Notification.title, Notification.type)
        .outerjoin(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.tenant_id == tenant_id, mine)
        .order_by(Delivery.created_at.desc()).limit(limit))
    return [SentRow((d.subject if d.channel == "email" else "") or title or d.subject, type_key or d.kind, d.channel, d.recipient, d.status, d.attempts, d.error,
                    d.created_at, d.sent_at) for d, title, type_key in rows]


def deliveries_of(user_id: uuid.UUID, notification_id: uuid.UUID) -> list[Delivery]:
    """The person's delivery log of one of their notifications (empty for someone else's)."""
    return list(db.session.scalars(sa.select(Delivery).where(
        Delivery.user_id == user_id, Delivery.notification_id == notification_id)
        .order_by(Delivery.channel)))
