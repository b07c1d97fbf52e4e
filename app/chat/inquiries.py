"""Inquiries: a customer talks to a business before booking, in the same chat as bookings.

An inquiry is the subject of an :data:`~app.chat.models.INQUIRY` conversation. A signed-in
customer's first message is posted at once; a guest's waits in ``pending_body`` until they
follow the link emailed to them (:func:`inquiry_token`, the outbox event
:data:`CONFIRM_REQUESTED` sends it), and from then on that signed link is their way into the
conversation (replies reach them by email with it). Functions flush, never commit; the
tenant in scope is the business.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from app.chat import service as chat
from app.chat.errors import ChatError, ChatStateError, ConversationClosed
from app.chat.models import CUSTOMER, INQUIRY, Conversation, Inquiry, Message
from app.extensions import db
from app.identity.service import normalize_email
from app.outbox.events import emit
from app.tenants.context import require_tenant_id
from app.timeutil import utcnow

#: Outbox event asking for the guest's confirmation email (payload: ``inquiry_id``).
CONFIRM_REQUESTED = "inquiry.confirm_requested"
TOKEN_SALT = "plaza-inquiry"
MAX_NAME = 120


class InvalidInquiry(ChatError):
    """The name or email of a guest's inquiry is missing or not valid (``field`` names it)."""


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def inquiry_token(inquiry: Inquiry) -> str:
    """The signed token of a guest's link to ``inquiry`` (tenant and inquiry ids; no expiry:
    it is the guest's key to the conversation, like a manage link)."""
    return _serializer().dumps([str(inquiry.tenant_id), str(inquiry.id)])


def inquiry_from_token(token: str) -> Inquiry | None:
    """The inquiry of the tenant in scope a signed ``token`` names, or ``None`` (forged, another
    business's, or gone)."""
    try:
        tenant_id, inquiry_id = _serializer().loads(token)
        tid, iid = uuid.UUID(str(tenant_id)), uuid.UUID(str(inquiry_id))
    except (BadSignature, ValueError, TypeError):
        return None
    if tid != require_tenant_id():
        return None
    return get_inquiry(iid)


def get_inquiry(inquiry_id: uuid.UUID) -> Inquiry | None:
    """The inquiry of the tenant in scope with this id, or ``None``."""
    return db.session.scalar(sa.select(Inquiry).where(Inquiry.id == inquiry_id))


def inquiry_conversation(inquiry: Inquiry) -> Conversation:
    """The conversation about ``inquiry`` (created on demand).

    Raises:
        ChatStateError: it cannot be read back after creating it.
    """
    conv = chat.conversation_for_subject(INQUIRY, inquiry.id)
    if conv is None:
        raise ChatStateError(f"conversation of inquiry {inquiry.id} not found after creating it")
    return conv


def inquiry_of(conv: Conversation) -> Inquiry | None:
    """The inquiry ``conv`` is about (``None`` for other subjects)."""
    return get_inquiry(conv.subject_id) if conv.subject_type == INQUIRY else None


def asker_principal(inquiry: Inquiry, user_id: uuid.UUID | None = None) -> chat.Principal:
    """The inquiry's customer as a :class:`~app.chat.service.Principal`: their participant
    identity (``customer_id``) is the inquiry's id, ``user_id`` their account when signed in."""
    return chat.Principal(CUSTOMER, user_id=user_id or inquiry.user_id, customer_id=inquiry.id, name=inquiry.name)


def open_inquiry_of(user_id: uuid.UUID) -> Inquiry | None:
    """The account's latest inquiry at the business in scope (they continue it rather than start
    another), or ``None``."""
    return db.session.scalar(sa.select(Inquiry).where(Inquiry.user_id == user_id)
                             .order_by(Inquiry.created_at.desc()).limit(1))


def start_inquiry(body: str | None, *, user_id: uuid.UUID | None = None, name: str | None = None,
                  email: str | None = None, locale: str | None = None) -> tuple[Inquiry, Message | None]:
    """Start an inquiry with its first message ``body`` (validated like any chat message).
    ``locale`` is the language the person writes in (Babel identifier, ``da``): a guest's
    emails go out in it.

    A signed-in customer (``user_id``, shown as ``name``) posts at once and gets the message back.
    A guest (``name`` and ``email``) gets ``(inquiry, None)``: the message waits for their
    confirmation, and a :data:`CONFIRM_REQUESTED` outbox event asks for the email. Flushes.

    Raises:
        EmptyMessage, MessageTooLong: invalid body.
        InvalidInquiry: a guest without a name or a valid email.
        ConversationClosed: refused by a post guard (the person is blocked here).
        RateLimited: chat's per-author rate.
    """
    text = chat.validate_body(body)
    clean_name = " ".join((name or "").split())[:MAX_NAME]
    if user_id is None:
        if not clean_name:
            raise InvalidInquiry(_("Tell the business your name."), "name")
        address = normalize_email(email or "")
        if "@" not in address or len(address) > 254 or " " in address:
            raise InvalidInquiry(_("Enter an email address like name@example.com."), "email")
    else:
        address = normalize_email(email or "") or None
    inquiry = Inquiry(name=clean_name or "Customer", email=address, user_id=user_id, locale=locale)
    db.session.add(inquiry)
    db.session.flush()
    conv = inquiry_conversation(inquiry)
    if user_id is not None:
        inquiry.confirmed_at = utcnow()
        return inquiry, chat.post_message(conv, asker_principal(inquiry), text)
    guard = next((r for g in chat.POST_GUARDS if (r := g(conv, asker_principal(inquiry)))), None)
    if guard is not None:
        raise ConversationClosed(guard)
    inquiry.pending_body = text
    emit(CONFIRM_REQUESTED, {"inquiry_id": str(inquiry.id)}, dedup_key=f"inquiry-confirm:{inquiry.id}")
    db.session.flush()
    return inquiry, None


def confirm_inquiry(inquiry: Inquiry) -> Message | None:
    """The guest confirmed their email: post the waiting first message (once; a second call
    changes nothing and returns ``None``). Flushes.

    Raises:
        ConversationClosed: refused by a post guard (blocked meanwhile).
    """
    if inquiry.confirmed_at is not None:
        return None
    inquiry.confirmed_at = utcnow()
    body, inquiry.pending_body = inquiry.pending_body, None
    if not body:
        db.session.flush()
        return None
    return chat.post_message(inquiry_conversation(inquiry), asker_principal(inquiry), body)
