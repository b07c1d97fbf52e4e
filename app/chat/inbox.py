"""The staff inbox: a business's booking conversations with their latest message and each
staff account's unread counts, in one query each (tenant in scope)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.booking.models import Booking, Customer
from app.catalog.models import Service
from app.chat.models import BOOKING, INQUIRY, STAFF, Conversation, Inquiry, Message, Participant
from app.extensions import db
from app.tenants.context import require_tenant_id

#: Characters of the last message shown in the inbox.
PREVIEW_CHARS = 140
#: More conversation kinds for the inbox, added by packages above chat (issue 13: job chats):
#: ``subject_type -> lister(user_id, limit) -> list[InboxItem]`` (:func:`register_inbox_source`).
INBOX_SOURCES: dict[str, Any] = {}


def register_inbox_source(subject_type: str, lister: Any) -> None:
    """List ``subject_type`` conversations in the staff inbox (and its unread badge) with ``lister``."""
    INBOX_SOURCES[subject_type] = lister


@dataclass(frozen=True)
class InboxItem:
    """One booking conversation in the staff inbox: the customer's name, the booking's
    service and start (tz-aware UTC), the latest message (``last_preview`` at most
    :data:`PREVIEW_CHARS` characters plus an ellipsis, its author's role and name, time and
    ``seq``) and ``unread``, the messages by others the staff user has not read."""

    conversation_id: uuid.UUID
    booking_id: uuid.UUID
    customer_name: str
    service_name: str
    starts_at: Any
    last_preview: str
    last_author_role: str
    last_author_name: str
    last_at: Any
    last_seq: int
    unread: int
    #: ``"booking"``, or ``"inquiry"`` (a question before booking: ``booking_id`` is then the
    #: inquiry's id, ``service_name`` empty and ``starts_at`` ``None``).
    kind: str = BOOKING


def _preview(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS].rstrip() + "…"


def _me_join(me: Any, tid: uuid.UUID, user_id: uuid.UUID) -> sa.ColumnElement[bool]:
    """Outer-join condition: ``me`` is ``user_id``'s staff participant row in ``Conversation``."""
    return sa.and_(me.tenant_id == tid, me.conversation_id == Conversation.id, me.role == STAFF,
                   me.user_id == user_id)


def _unread_expr(tid: uuid.UUID, me: Any) -> sa.ScalarSelect:
    """Correlated count of the messages of ``Conversation`` that ``me`` (possibly NULL: never
    joined, so everything is unread) has not read and did not write."""
    return (sa.select(sa.func.count()).select_from(Message)
            .where(Message.tenant_id == tid, Message.conversation_id == Conversation.id,
                   Message.seq > sa.func.coalesce(me.last_read_seq, 0),
                   sa.or_(me.id.is_(None), Message.author_participant_id != me.id))
            .correlate(Conversation, me).scalar_subquery())


def list_inbox(user_id: uuid.UUID, limit: int = 200) -> list[InboxItem]:
    """The booking conversations of the tenant in scope that have at least one message,
    latest message first (at most ``limit``), with unread counts for the staff account
    ``user_id`` (everything by others counts as unread until they open the conversation).

    Authorisation (``user_id`` is staff here) is the caller's job. One query.
    """
    tid = require_tenant_id()
    me = aliased(Participant, name="me")
    last_seq = (sa.select(sa.func.max(Message.seq)).where(Message.tenant_id == tid,
                                                          Message.conversation_id == Conversation.id)
                .correlate(Conversation).scalar_subquery())
    last = aliased(Message, name="last")
    rows = db.session.execute(
        sa.select(Conversation.id, Booking.id, Customer.name, Service.name, Booking.starts_at, last.body,
                  last.author_role, last.author_name, last.created_at, last.seq, _unread_expr(tid, me))
        .select_from(Conversation)
        .join(last, sa.and_(last.tenant_id == Conversation.tenant_id, last.conversation_id == Conversation.id,
                            last.seq == last_seq))
        .join(Booking, sa.and_(Booking.tenant_id == Conversation.tenant_id, Booking.id == Conversation.subject_id))
        .join(Customer, sa.and_(Customer.tenant_id == Booking.tenant_id, Customer.id == Booking.customer_id))
        .join(Service, sa.and_(Service.tenant_id == Booking.tenant_id, Service.id == Booking.service_id))
        .outerjoin(me, _me_join(me, tid, user_id))
        .where(Conversation.tenant_id == tid, Conversation.subject_type == BOOKING)
        .order_by(last.seq.desc()).limit(limit)).all()
    items = [InboxItem(conv_id, booking_id, customer_name or "", service_name or "", starts_at, _preview(body),
                       role, author_name or "", at, int(seq), int(unread or 0))
             for conv_id, booking_id, customer_name, service_name, starts_at, body, role, author_name, at, seq, unread
             in rows]
    items.extend(list_inquiries(user_id, limit))
    for lister in INBOX_SOURCES.values():
        items.extend(lister(user_id, limit))
    items.sort(key=lambda i: i.last_seq, reverse=True)
    return items[:limit]


def list_inquiries(user_id: uuid.UUID, limit: int = 200) -> list[InboxItem]:
    """The inquiry conversations (questions before booking) of the tenant in scope with at
    least one visible message, as :class:`InboxItem` of kind ``"inquiry"``, latest first. One query."""
    tid = require_tenant_id()
    me = aliased(Participant, name="me")
    last_seq = (sa.select(sa.func.max(Message.seq)).where(Message.tenant_id == tid,
                                                          Message.conversation_id == Conversation.id,
                                                          Message.hidden_at.is_(None))
                .correlate(Conversation).scalar_subquery())
    last = aliased(Message, name="last")
    rows = db.session.execute(
        sa.select(Conversation.id, Inquiry.id, Inquiry.name, last.body, last.author_role, last.author_name,
                  last.created_at, last.seq, _unread_expr(tid, me))
        .select_from(Conversation)
        .join(last, sa.and_(last.tenant_id == Conversation.tenant_id, last.conversation_id == Conversation.id,
                            last.seq == last_seq))
        .join(Inquiry, sa.and_(Inquiry.tenant_id == Conversation.tenant_id, Inquiry.id == Conversation.subject_id))
        .outerjoin(me, _me_join(me, tid, user_id))
        .where(Conversation.tenant_id == tid, Conversation.subject_type == INQUIRY)
        .order_by(last.seq.desc()).limit(limit)).all()
    return [InboxItem(conv_id, inquiry_id, name or "", "", None, _preview(body), role, author_name or "", at,
                      int(seq), int(unread or 0), INQUIRY)
            for conv_id, inquiry_id, name, body, role, author_name, at, seq, unread in rows]


def inbox_unread_total(user_id: uuid.UUID) -> int:
    """Unread messages over every booking and inquiry conversation of the tenant in scope for the staff
    account ``user_id`` (the sidebar badge). One query."""
    tid = require_tenant_id()
    me = aliased(Participant, name="me")
    per_conv = (sa.select(_unread_expr(tid, me).label("n")).select_from(Conversation)
                .outerjoin(me, _me_join(me, tid, user_id))
                .where(Conversation.tenant_id == tid,
                       Conversation.subject_type.in_((BOOKING, INQUIRY, *INBOX_SOURCES))).subquery())
    return int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(per_conv.c.n), 0))) or 0)
