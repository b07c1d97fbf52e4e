"""Chat domain: conversations about a subject, posting, receipts and unread counts.

Functions flush, never commit. Every function works inside the tenant in scope (the
ORM guard filters by it). Message bodies are stored as the plain text the author typed
and rendered with :func:`render_body` (escaped, links made clickable, cleaned by ``nh3``;
:mod:`app.chat.rendering`). The staff inbox queries are in :mod:`app.chat.inbox`, re-exported
here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.booking.models import Booking
from app.chat.errors import ChatStateError, ConversationClosed, EmptyMessage, MessageTooLong, RateLimited

# Re-exported: callers reach the chat domain through this module (``chat.list_inbox`` …).
from app.chat.inbox import PREVIEW_CHARS as PREVIEW_CHARS
from app.chat.inbox import InboxItem as InboxItem
from app.chat.inbox import inbox_unread_total as inbox_unread_total
from app.chat.inbox import list_inbox as list_inbox
from app.chat.models import BOOKING, CUSTOMER, INQUIRY, STAFF, Conversation, Inquiry, Message, Participant
from app.chat.rendering import render_body
from app.customers.ownership import account_of
from app.extensions import db
from app.formatting import format_number
from app.outbox.events import emit
from app.redis_client import get_redis
from app.tenants.context import require_tenant_id
from app.tenants.models import MANAGER_ROLES, Membership, Tenant
from app.tenants.urls import tenant_url

MAX_BODY = 4000
#: Messages allowed per author within :data:`RATE_WINDOW_SECONDS`.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 10
#: The per-author budget in the ``limits`` notation: :data:`RATE_LIMIT` per :data:`RATE_WINDOW_SECONDS`,
#: a fixed window that starts with the author's first message.
RATE = RateLimitItemPerSecond(RATE_LIMIT, RATE_WINDOW_SECONDS)
#: Notification type of a new message (:mod:`app.notifications.registry`).
NEW_MESSAGE = "new_message"
#: Booking statuses in which the booking's customer may no longer write in its conversation.
CLOSED_TO_CUSTOMER = frozenset({"cancelled"})


#: Functions ``guard(conversation, principal) -> str | None`` asked before a message is stored:
#: a sentence refuses it (:class:`ConversationClosed`). Registered by packages above chat (the
#: community's blocks: :func:`register_post_guard`), so chat never imports them.
POST_GUARDS: list[Callable[[Conversation, Principal], str | None]] = []


@dataclass(frozen=True)
class GuardForm:
    """How a post guard takes part in the socket's one-statement send (:mod:`app.chat.sending`):
    ``applies(subject_type, role)`` says whether it concerns such a post at all (``None``:
    always); ``condition(conversation, principal)`` builds, when the socket joins, the SQL
    boolean that holds while the guard would let the principal post (``None``: the guard has
    no SQL form, so every post it applies to takes the full path)."""

    applies: Callable[[str, str], bool] | None = None
    condition: Callable[[Conversation, Principal], Any] | None = None


#: Guard -> its :class:`GuardForm` (guards registered without one apply always, with no SQL form).
GUARD_FORMS: dict[Callable[[Conversation, Principal], str | None], GuardForm] = {}


def register_post_guard(guard: Callable[[Conversation, Principal], str | None], *,
                        applies: Callable[[str, str], bool] | None = None,
                        condition: Callable[[Conversation, Principal], Any] | None = None) -> None:
    """Add ``guard`` to :data:`POST_GUARDS` once (idempotent), with its :class:`GuardForm`
    (``applies``, ``condition``) for the socket's one-statement send."""
    if guard not in POST_GUARDS:
        POST_GUARDS.append(guard)
    GUARD_FORMS[guard] = GuardForm(applies, condition)


@dataclass(frozen=True)
class Principal:
    """Who is acting: ``role`` ``"customer"`` (identified by ``customer_id``, and ``user_id``
    when logged in) or ``"staff"`` (``user_id``); ``name`` is shown beside their messages."""

    role: str
    user_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    name: str = ""

    @property
    def key(self) -> str:
        """Stable identity string (rate-limit bucket, presence): ``u:<id>`` or ``c:<id>``."""
        return f"u:{self.user_id}" if self.user_id else f"c:{self.customer_id}"


def message_payload(msg: Message) -> dict[str, Any]:
    """JSON shape of a message for pages and sockets: ids as strings, ``seq`` int, ``html``
    safe to insert, ``created_at`` RFC 3339 UTC."""
    return {"id": str(msg.id), "seq": msg.seq, "conversation_id": str(msg.conversation_id),
            "tenant_id": str(msg.tenant_id), "author_participant_id": str(msg.author_participant_id),
            "author_role": msg.author_role, "author_name": msg.author_name, "body": msg.body,
            "html": str(render_body(msg.body)), "created_at": msg.created_at.isoformat()}


# --------------------------------------------------------------------------- conversations


def get_conversation(conversation_id: uuid.UUID) -> Conversation | None:
    """The conversation of the tenant in scope with this id, or ``None``."""
    return db.session.scalar(sa.select(Conversation).where(Conversation.id == conversation_id))


def conversation_for_subject(subject_type: str, subject_id: uuid.UUID, *, create: bool = True) -> Conversation | None:
    """The conversation about ``(subject_type, subject_id)``; created on demand when ``create``
    (concurrency-safe: an insert that loses the race reads the winner's row)."""
    found = db.session.scalar(sa.select(Conversation).where(Conversation.subject_type == subject_type,
                                                            Conversation.subject_id == subject_id))
    if found is not None or not create:
        return found
    db.session.execute(pg_insert(Conversation).values(
        tenant_id=require_tenant_id(), id=uuid.uuid4(), subject_type=subject_type, subject_id=subject_id,
        created_at=sa.func.now()).on_conflict_do_nothing(constraint="chat_conversation_subject"))
    return db.session.scalar(sa.select(Conversation).where(Conversation.subject_type == subject_type,
                                                           Conversation.subject_id == subject_id))


def conversation_for_booking(booking_id: uuid.UUID) -> Conversation:
    """The booking's conversation (customer and the business's staff), created on demand.

    Raises:
        ChatStateError: the conversation cannot be read back after creating it.
    """
    conv = conversation_for_subject(BOOKING, booking_id)
    if conv is None:
        raise ChatStateError(f"conversation of booking {booking_id} not found after creating it")
    return conv


def find_participant(conv: Conversation, principal: Principal) -> Participant | None:
    """The participant row of ``principal`` in ``conv``, or ``None`` (not joined yet)."""
    q = sa.select(Participant).where(Participant.conversation_id == conv.id, Participant.role == principal.role)
    if principal.role == CUSTOMER:
        q = q.where(Participant.customer_id == principal.customer_id)
    else:
        q = q.where(Participant.user_id == principal.user_id)
    return db.session.scalar(q)


def join_conversation(conv: Conversation, principal: Principal) -> Participant:
    """The participant row of ``principal`` in ``conv``, created when missing (race-safe).

    Authorisation is the caller's job (views and socket handlers check who may join).

    Raises:
        ChatStateError: the participant cannot be read back after inserting it.
    """
    found = find_participant(conv, principal)
    if found is not None:
        if principal.role == CUSTOMER and principal.user_id and found.user_id is None:
            found.user_id = principal.user_id
        return found
    cols = ["tenant_id", "conversation_id", "customer_id" if principal.role == CUSTOMER else "user_id"]
    db.session.execute(pg_insert(Participant).values(
        tenant_id=require_tenant_id(), id=uuid.uuid4(), conversation_id=conv.id, role=principal.role,
        user_id=principal.user_id, customer_id=principal.customer_id, last_delivered_seq=0, last_read_seq=0,
        joined_at=sa.func.now(),
    ).on_conflict_do_nothing(index_elements=cols, index_where=sa.text(
        f"role = '{principal.role}'")))
    found = find_participant(conv, principal)
    if found is None:
        raise ChatStateError(f"participant {principal.key} of conversation {conv.id} not found after joining")
    return found


def participants(conv: Conversation) -> list[Participant]:
    """Everyone who joined ``conv``."""
    return list(db.session.scalars(sa.select(Participant).where(Participant.conversation_id == conv.id)))


# --------------------------------------------------------------------------- messages


def rate_limiter() -> FixedWindowRateLimiter:
    """The app's chat rate limiter: ``limits``' fixed window over the app's Redis client
    (one per app, kept in ``app.extensions``)."""
    limiter = current_app.extensions.get("plaza_chat_limiter")
    if limiter is None:
        storage = RedisStorage(current_app.config["REDIS_URL"], connection_pool=get_redis().connection_pool,
                               key_prefix="chat:rl")
        limiter = current_app.extensions["plaza_chat_limiter"] = FixedWindowRateLimiter(storage)
    return limiter


def check_rate(principal: Principal) -> None:
    """Count one message for ``principal`` against :data:`RATE` (Redis, shared by every process).

    Raises:
        RateLimited: over the limit (the message is not stored).
    """
    if not rate_limiter().hit(RATE, principal.key):
        raise RateLimited(_("You are sending messages too fast: at most %(num)d every %(seconds)d seconds. "
                            "Wait a moment and try again.", num=RATE_LIMIT, seconds=RATE_WINDOW_SECONDS))


def validate_body(body: str | None) -> str:
    """The body to store: surrounding whitespace trimmed, line endings normalised.

    Raises:
        EmptyMessage: nothing but whitespace.
        MessageTooLong: more than :data:`MAX_BODY` characters.
    """
    text = (body or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise EmptyMessage(_("Write a message before sending."))
    if len(text) > MAX_BODY:
        raise MessageTooLong(_("A message can be at most %(max)s characters (this one has %(num)s).", max=format_number(MAX_BODY), num=format_number(len(text))))
    return text


def customer_may_write(status: str | None) -> bool:
    """True when the customer of a booking in ``status`` may (still) write in its conversation:
    the booking exists (``status`` not ``None``) and is not cancelled. The one rule for every
    way in (the HTTP form, Socket.IO, a guest's manage link or a logged-in account)."""
    return status is not None and status not in CLOSED_TO_CUSTOMER


def closed_reason(conv: Conversation, principal: Principal) -> str | None:
    """Why ``principal`` may not write in ``conv`` now (a user-facing sentence), or ``None``
    when they may. Only a booking's customer is ever refused (see :func:`customer_may_write`);
    the business's staff may still write, e.g. to explain a cancellation. Tenant in scope."""
    if principal.role != CUSTOMER or conv.subject_type != BOOKING:
        return None
    status = db.session.scalar(sa.select(Booking.status).where(Booking.id == conv.subject_id))
    if customer_may_write(status):
        return None
    return _("This booking was cancelled, so its conversation is closed: you can read it, but not write here "
             "any more. Please contact the business directly.")


def post_message(conv: Conversation, principal: Principal, body: str | None) -> Message:
    """Store a message by ``principal`` in ``conv`` (joining them if needed); the author's own
    delivered/read watermarks move to it; a ``chat.message_created`` outbox event (ids, sender
    name, preview, recipient account ids) is written in the same transaction, for the
    notification fan-out. Flushes.

    Raises:
        ConversationClosed: the booking's customer may no longer write (:func:`closed_reason`).
        EmptyMessage, MessageTooLong: invalid body (nothing stored, not counted).
        RateLimited: more than :data:`RATE_LIMIT` messages in :data:`RATE_WINDOW_SECONDS` (nothing stored).
    """
    ensure_may_post(conv, principal)
    text = validate_body(body)
    check_rate(principal)
    return store_message(conv, principal, text)


def ensure_may_post(conv: Conversation, principal: Principal) -> None:
    """Refuse ``principal`` a post in ``conv`` when :func:`closed_reason` or a post guard says so.

    Raises:
        ConversationClosed: with the user-facing sentence.
    """
    reason = closed_reason(conv, principal)
    for guard in POST_GUARDS:
        reason = reason or guard(conv, principal)
    if reason is not None:
        raise ConversationClosed(reason)


def store_message(conv: Conversation, principal: Principal, text: str) -> Message:
    """Store ``text`` (already validated, rate counted, the author allowed: :func:`post_message`)
    as the message of ``principal`` in ``conv``; watermarks and the outbox event as
    :func:`post_message` says. Flushes."""
    author = join_conversation(conv, principal)
    msg = Message(conversation_id=conv.id, author_participant_id=author.id, author_role=principal.role,
                  author_name=(principal.name or "")[:120], body=text)
    db.session.add(msg)
    db.session.flush()  # RETURNING seq (eager_defaults)
    author.last_delivered_seq = max(author.last_delivered_seq, msg.seq)
    author.last_read_seq = max(author.last_read_seq, msg.seq)
    payload = {
        "conversation_id": str(conv.id), "message_id": str(msg.id), "seq": msg.seq,
        "subject_type": conv.subject_type, "subject_id": str(conv.subject_id), "author_role": principal.role,
        "sender_name": msg.author_name, "preview": text[:200],
        "recipient_user_ids": [str(u) for u in recipients(conv, author)]}
    if conv.subject_type == INQUIRY:  # the readers' link (the notification fan-out knows booking links only)
        payload["url"] = inquiry_url(conv.subject_id, CUSTOMER if principal.role == STAFF else STAFF)
    emit("chat.message_created", payload)
    db.session.flush()
    return msg


def recipients(conv: Conversation, author: Participant) -> list[uuid.UUID]:
    """Accounts to tell about a new message by ``author`` (ids sorted as strings): the other
    participants with an account; when a customer writes about a booking, also the
    business's owners and managers and the booking's staff member; when staff write about a
    booking, also the booking's customer account (linked, or verified with the customer's
    email: :func:`app.customers.ownership.account_of`) — all even before they opened
    the conversation. A guest customer (no account) is not an account: the fan-out emails
    them (:mod:`app.notifications.chat_messages`)."""
    tid = require_tenant_id()
    others = sa.select(Participant.user_id).where(
        Participant.tenant_id == tid, Participant.conversation_id == conv.id, Participant.id != author.id,
        Participant.user_id.is_not(None))
    query: sa.Select | sa.CompoundSelect = others
    if author.role == CUSTOMER and conv.subject_type == INQUIRY:
        query = sa.union(others, sa.select(Membership.user_id).where(
            Membership.tenant_id == tid, Membership.role.in_([r.value for r in MANAGER_ROLES])))
    if author.role == CUSTOMER and conv.subject_type == BOOKING:
        staff_id = (sa.select(Booking.staff_id).where(Booking.tenant_id == tid, Booking.id == conv.subject_id)
                    .scalar_subquery())
        staff = sa.select(Membership.user_id).where(Membership.tenant_id == tid, sa.or_(
            Membership.role.in_([r.value for r in MANAGER_ROLES]), Membership.staff_member_id == staff_id))
        query = sa.union(others, staff)
    found = {u for u in db.session.scalars(query) if u is not None}
    if author.role == STAFF and conv.subject_type == INQUIRY:
        asker = db.session.scalar(sa.select(Inquiry.user_id).where(Inquiry.id == conv.subject_id))
        if asker is not None:
            found.add(asker)
    if author.role == STAFF:
        customer = booking_customer_user_id(conv)
        if customer is not None:
            found.add(customer)
    found.discard(author.user_id)  # type: ignore[arg-type]
    return sorted(found, key=str)


def inquiry_url(inquiry_id: uuid.UUID, reader_role: str) -> str:
    """Absolute link to an inquiry's conversation on the business's host (tenant in scope):
    the staff page for ``reader_role`` ``"staff"``, the signed-in customer's page otherwise
    (a guest follows the signed link of their email instead)."""
    tenant = db.session.get(Tenant, require_tenant_id())
    path = f"/dashboard/inquiries/{inquiry_id}" if reader_role == STAFF else f"/inquiries/{inquiry_id}"
    return tenant_url(tenant, path) if tenant is not None else path


def booking_customer_id(conv: Conversation) -> uuid.UUID | None:
    """The customer record of the booking ``conv`` is about (``None`` for other subjects or
    a missing booking). Tenant in scope."""
    if conv.subject_type != BOOKING:
        return None
    return db.session.scalar(sa.select(Booking.customer_id).where(Booking.id == conv.subject_id))


def booking_customer_user_id(conv: Conversation) -> uuid.UUID | None:
    """The account of the customer of the booking ``conv`` is about, or ``None`` (a guest,
    another subject, a missing booking). Tenant in scope."""
    customer_id = booking_customer_id(conv)
    return account_of(customer_id) if customer_id is not None else None


#: How many missed messages one ``join`` answers with; the client asks again while there are more.
JOIN_PAGE = 500


def messages_since(conv: Conversation, last_seq: int = 0, limit: int = JOIN_PAGE) -> list[Message]:
    """Messages of ``conv`` with ``seq > last_seq``, oldest first (at most ``limit``)."""
    return list(db.session.scalars(
        sa.select(Message).where(Message.conversation_id == conv.id, Message.seq > last_seq,
                                 Message.hidden_at.is_(None))
        .order_by(Message.seq).limit(limit)))


def recent_messages(conv: Conversation, limit: int = 200) -> list[Message]:
    """The last ``limit`` messages of ``conv``, oldest first."""
    rows = list(db.session.scalars(sa.select(Message).where(Message.conversation_id == conv.id,
                                                            Message.hidden_at.is_(None))
                                   .order_by(Message.seq.desc()).limit(limit)))
    rows.reverse()
    return rows


def _latest_seq(conv: Conversation) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Message.seq), 0))
                             .where(Message.conversation_id == conv.id)) or 0


def mark_delivered(conv: Conversation, participant: Participant, upto_seq: int) -> int:
    """Record that messages up to ``upto_seq`` reached ``participant`` (never moves back;
    capped at the conversation's latest message). Returns the watermark."""
    upto = min(int(upto_seq), _latest_seq(conv))
    participant.last_delivered_seq = max(participant.last_delivered_seq, upto)
    db.session.flush()
    return participant.last_delivered_seq


def mark_read(conv: Conversation, participant: Participant, upto_seq: int | None = None) -> int:
    """Record that ``participant`` read up to ``upto_seq`` (default: everything); read implies
    delivered. Never moves back. Returns the read watermark."""
    latest = _latest_seq(conv)
    upto = latest if upto_seq is None else min(int(upto_seq), latest)
    participant.last_read_seq = max(participant.last_read_seq, upto)
    participant.last_delivered_seq = max(participant.last_delivered_seq, participant.last_read_seq)
    db.session.flush()
    return participant.last_read_seq


def unread_count(conv: Conversation, participant: Participant | None) -> int:
    """Messages in ``conv`` written by others that ``participant`` has not read (all of the
    others' messages when they never joined)."""
    q = sa.select(sa.func.count()).select_from(Message).where(Message.conversation_id == conv.id)
    if participant is not None:
        q = q.where(Message.seq > participant.last_read_seq, Message.author_participant_id != participant.id)
    return db.session.scalar(q) or 0


def unread_by_account(conv: Conversation, except_participant_id: uuid.UUID | None = None
                      ) -> list[tuple[Participant, int]]:
    """``(participant, unread count)`` for every participant with an account (``user_id``),
    except ``except_participant_id``; one query."""
    unread = (sa.select(sa.func.count()).select_from(Message)
              .where(Message.conversation_id == conv.id, Message.seq > Participant.last_read_seq,
                     Message.author_participant_id != Participant.id)
              .correlate(Participant).scalar_subquery())
    q = sa.select(Participant, unread).where(Participant.conversation_id == conv.id, Participant.user_id.is_not(None))
    if except_participant_id is not None:
        q = q.where(Participant.id != except_participant_id)
    return [(p, int(n)) for p, n in db.session.execute(q).all()]


def receipts(conv: Conversation, role: str) -> dict[str, int]:
    """Watermarks of the *other* side of ``role``: ``{"delivered": seq, "read": seq}`` — the
    highest seq any participant of the other role has received / read."""
    other = STAFF if role == CUSTOMER else CUSTOMER
    row = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.max(Participant.last_delivered_seq), 0),
                  sa.func.coalesce(sa.func.max(Participant.last_read_seq), 0))
        .where(Participant.conversation_id == conv.id, Participant.role == other)).one()
    return {"delivered": int(row[0]), "read": int(row[1])}
