"""Read model of a customer's conversations across businesses (the apex ``/account/messages``).

One query: every booking of the account's customer records at every non-suspended business,
with its business, service, conversation (if started) and the number of messages the
customer has not read — counted in the same query (a correlated subquery), not one query
per row. Ownership of customer records is :func:`app.customers.ownership.owned_by`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.catalog.models import Service
from app.chat.models import Conversation, Message, Participant
from app.chat.service import BOOKING, CUSTOMER
from app.customers.ownership import owned_by
from app.extensions import db
from app.identity.models import User
from app.tenants.context import platform_scope
from app.tenants.models import Tenant

#: At most this many conversations are listed (newest booking first).
LIST_LIMIT = 200
#: Stands in for "no participant yet": no message has this author.
NO_PARTICIPANT = uuid.UUID(int=0)


@dataclass(frozen=True)
class CustomerConversation:
    """One booking's conversation as its customer sees it in the list: ``starts_at`` is UTC
    (shown in ``timezone``), ``unread`` counts others' messages after the customer's last read
    one; ``conversation_id`` is ``None`` until the conversation is started."""

    tenant_id: uuid.UUID
    booking_id: uuid.UUID
    business: str
    service: str
    starts_at: datetime
    timezone: str
    unread: int
    conversation_id: uuid.UUID | None


def customer_conversations(user: User) -> list[CustomerConversation]:
    """The conversations (started or not) about ``user``'s bookings at every business, newest
    booking first, at most :data:`LIST_LIMIT`; one query, under ``platform_scope`` (it spans
    tenants; ownership keeps it to this account's records)."""
    unread = (
        sa.select(sa.func.count()).select_from(Message)
        .where(Message.tenant_id == Conversation.tenant_id, Message.conversation_id == Conversation.id,
               Message.seq > sa.func.coalesce(Participant.last_read_seq, 0),
               Message.author_participant_id != sa.func.coalesce(Participant.id, NO_PARTICIPANT))
        .correlate(Conversation, Participant)
        .scalar_subquery()
    )
    stmt = (
        sa.select(Booking.tenant_id, Booking.id, Tenant.name, Service.name, Booking.starts_at, Tenant.timezone,
                  unread, Conversation.id)
        .join(Customer, sa.and_(Customer.tenant_id == Booking.tenant_id, Customer.id == Booking.customer_id))
        .join(Tenant, Tenant.id == Booking.tenant_id)
        .join(Service, sa.and_(Service.tenant_id == Booking.tenant_id, Service.id == Booking.service_id))
        .outerjoin(Conversation, sa.and_(Conversation.tenant_id == Booking.tenant_id,
                                         Conversation.subject_type == BOOKING,
                                         Conversation.subject_id == Booking.id))
        .outerjoin(Participant, sa.and_(Participant.tenant_id == Conversation.tenant_id,
                                        Participant.conversation_id == Conversation.id,
                                        Participant.role == CUSTOMER,
                                        Participant.customer_id == Customer.id))
        .where(owned_by(user), Tenant.suspended_at.is_(None))
        .order_by(Booking.starts_at.desc()).limit(LIST_LIMIT)
    )
    with platform_scope("customer's own conversations across businesses"):
        rows = db.session.execute(stmt).all()
    return [CustomerConversation(tid, bid, business, service, starts_at, tz, int(count or 0), conv_id)
            for tid, bid, business, service, starts_at, tz, count, conv_id in rows]
