"""Conversation, participant and message tables.

A conversation is about a *subject* (``subject_type`` + ``subject_id``: ``"booking"`` now;
job requests and disputes later). Messages carry a per-database increasing ``seq`` (bigint)
used for ordering, "messages since" and receipts; ``id`` is the UUID key like elsewhere.
Receipts are watermarks per participant: every message with ``seq <= last_delivered_seq``
was delivered to them, ``<= last_read_seq`` read by them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow

MESSAGE_SEQ = sa.Sequence("chat_message_seq")


#: ``subject_type`` of a conversation about a booking.
BOOKING = "booking"
#: ``subject_type`` of a conversation before any booking (``subject_id`` is a
#: :class:`app.chat.inquiries.Inquiry` id).
INQUIRY = "inquiry"
#: ``Participant.role`` / ``Message.author_role`` of a booking's customer.
CUSTOMER = "customer"
#: ``Participant.role`` / ``Message.author_role`` of the business's staff.
STAFF = "staff"


class Conversation(TenantScoped, db.Model):
    """A conversation about one subject of a tenant (unique per subject)."""

    __tablename__ = "chat_conversation"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "subject_type", "subject_id",
                                          name="chat_conversation_subject"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    subject_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    subject_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class Participant(TenantScoped, db.Model):
    """Someone in a conversation: a staff user (``user_id``) or the customer (``customer_id``,
    plus ``user_id`` when the customer record is linked to an account). ``role`` is
    ``"customer"`` or ``"staff"``."""

    __tablename__ = "chat_participant"
    __table_args__ = (
        tenant_fk(["conversation_id"], "chat_conversation"),
        sa.CheckConstraint("role in ('customer', 'staff')", name="chat_participant_role"),
        sa.CheckConstraint("user_id is not null or customer_id is not null", name="chat_participant_who"),
        sa.Index("chat_participant_user", "tenant_id", "conversation_id", "user_id", unique=True,
                 postgresql_where=sa.text("role = 'staff'")),
        sa.Index("chat_participant_customer", "tenant_id", "conversation_id", "customer_id", unique=True,
                 postgresql_where=sa.text("role = 'customer'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    role: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    last_delivered_seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    last_read_seq: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    joined_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class Message(TenantScoped, db.Model):
    """A message: plain text ``body`` (1–4000 characters, rendered escaped with links made
    clickable), its author (participant id, role and display name at the time)."""

    __tablename__ = "chat_message"
    __mapper_args__ = {"eager_defaults": True}  # INSERT … RETURNING seq
    __table_args__ = (
        tenant_fk(["conversation_id"], "chat_conversation"),
        sa.CheckConstraint("char_length(body) between 1 and 4000", name="chat_message_body"),
        sa.UniqueConstraint("tenant_id", "seq", name="chat_message_seq_unique"),
        sa.Index("chat_message_conv_seq", "tenant_id", "conversation_id", "seq"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(sa.BigInteger, MESSAGE_SEQ, server_default=MESSAGE_SEQ.next_value(),
                                     nullable=False)
    conversation_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    author_participant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    author_role: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    author_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    #: Set when the business hid the message after a report (:mod:`app.community.moderation`):
    #: a hidden message is never served.
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class Inquiry(TenantScoped, db.Model):
    """A customer's question to a business before any booking: the subject of an
    :data:`INQUIRY` conversation. The customer is a signed-in account (``user_id``) or a
    guest known by ``name`` and ``email`` who must confirm the address first: until
    ``confirmed_at`` the first message waits in ``pending_body`` and the business sees nothing."""

    __tablename__ = "chat_inquiry"
    __table_args__ = (sa.CheckConstraint("user_id is not null or email is not null", name="chat_inquiry_who"),
                      sa.Index("chat_inquiry_user", "tenant_id", "user_id"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    pending_body: Mapped[str | None] = mapped_column(sa.Text)
    #: The language the guest wrote in (Babel identifier, ``da``): their emails are in it.
    locale: Mapped[str | None] = mapped_column(sa.String(12))
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
