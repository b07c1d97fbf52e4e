"""A customer record's part of chat, for the CRM's merge, export and erasure (:mod:`app.crm`).

A conversation is about a booking, so a customer's conversations are those of their bookings;
the customer's participant rows carry the record's id (``chat_participant.customer_id``).
The business in scope filters every statement; functions flush, never commit.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.booking.models import Booking
from app.chat.models import BOOKING, CUSTOMER, Conversation, Message, Participant
from app.extensions import db

#: What an erased customer's messages say afterwards (the body may not be empty).
ERASED_TEXT = "(message erased at the customer's request)"
#: The author name of an erased customer's messages.
ERASED_NAME = "Deleted customer"


def conversations_of(customer_id: uuid.UUID) -> sa.Select:
    """SELECT of the ids of the conversations about the customer's bookings."""
    bookings = sa.select(Booking.id).where(Booking.customer_id == customer_id)
    return sa.select(Conversation.id).where(Conversation.subject_type == BOOKING,
                                            Conversation.subject_id.in_(bookings))


def count_conversations(customer_id: uuid.UUID) -> int:
    """How many conversations are about the customer's bookings."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(conversations_of(customer_id).subquery())) or 0


def move_participants(from_customer_id: uuid.UUID, to_customer_id: uuid.UUID) -> int:
    """Make the customer participants of ``from_customer_id`` those of ``to_customer_id`` (a
    merge); where the kept record already takes part in a conversation, the duplicate's row is
    removed instead (one customer participant per conversation). Returns the rows moved."""
    existing = sa.select(Participant.conversation_id).where(Participant.role == CUSTOMER,
                                                            Participant.customer_id == to_customer_id)
    db.session.execute(sa.delete(Participant).where(
        Participant.role == CUSTOMER, Participant.customer_id == from_customer_id,
        Participant.conversation_id.in_(existing)).execution_options(synchronize_session=False))
    result = db.session.execute(sa.update(Participant).where(
        Participant.role == CUSTOMER, Participant.customer_id == from_customer_id)
        .values(customer_id=to_customer_id).execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0


def customer_messages(customer_id: uuid.UUID) -> list[dict]:
    """Every message of the conversations about the customer's bookings, oldest first, as
    JSON-ready dicts: ``booking_id``, ``from`` (``"customer"`` or ``"staff"``), ``author``,
    ``text``, ``at`` (RFC 3339, UTC)."""
    rows = db.session.execute(
        sa.select(Conversation.subject_id, Message)
        .join(Conversation, sa.and_(Conversation.tenant_id == Message.tenant_id,
                                    Conversation.id == Message.conversation_id))
        .where(Conversation.id.in_(conversations_of(customer_id)))
        .order_by(Message.seq)).all()
    return [{"booking_id": str(subject), "from": m.author_role, "author": m.author_name, "text": m.body,
             "at": m.created_at.isoformat()} for subject, m in rows]


def erase_customer_messages(customer_id: uuid.UUID) -> int:
    """Replace the text and author name of every message the customer wrote about their
    bookings (staff replies stay); returns how many were erased."""
    result = db.session.execute(
        sa.update(Message).where(Message.conversation_id.in_(conversations_of(customer_id)),
                                 Message.author_role == CUSTOMER)
        .values(body=ERASED_TEXT, author_name=ERASED_NAME).execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount or 0
