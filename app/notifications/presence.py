"""Whether someone is engaged with a conversation, for the smart rules of new-message
notifications: online in it right now (:mod:`app.realtime.presence`), or has read it.

The source is swappable (:func:`set_presence_source`) so tests can pin it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app.chat import service as chat
from app.chat.models import Message, Participant
from app.customers.ownership import account_of
from app.extensions import db
from app.realtime import presence as chat_presence
from app.redis_client import get_redis

log = logging.getLogger("plaza.notifications")


class PresenceSource(Protocol):
    """Where the fan-out learns whether someone is engaged with a conversation.

    ``tenant_id`` is the conversation's business (``None`` for platform conversations); the
    tenant is in scope when these are called.
    """

    def is_online_in(self, user_id: uuid.UUID, conversation_id: str, tenant_id: uuid.UUID | None = None) -> bool:
        """True while the person has the conversation open (a live socket in it)."""

    def read_since(self, user_id: uuid.UUID, conversation_id: str, since: datetime,
                   tenant_id: uuid.UUID | None = None) -> bool:
        """True when the person has read the conversation's messages up to ``since``."""


class ChatPresence:
    """Presence and read receipts from the chat module (:mod:`app.chat`, :mod:`app.realtime`):
    the person's participant in the conversation is online when
    :func:`app.realtime.presence.online` lists it, and has read up to ``since`` when its
    ``last_read_seq`` covers the last message sent at or before ``since``. Without the chat
    module's data (or on a Redis or database error) nobody counts as online or as having read.
    """

    def _participant(self, user_id: uuid.UUID, conversation_id: str):
        """The person's participant row: theirs by account, else (the booking's customer who
        opened the chat by the manage link, not logged in) the customer participant."""
        cid = uuid.UUID(str(conversation_id))
        found = db.session.scalar(sa.select(Participant).where(
            Participant.conversation_id == cid, Participant.user_id == user_id).limit(1))
        if found is not None:
            return found
        conv = chat.get_conversation(cid)
        customer_id = chat.booking_customer_id(conv) if conv is not None else None
        if customer_id is None or account_of(customer_id) != user_id:
            return None
        return db.session.scalar(sa.select(Participant).where(
            Participant.conversation_id == cid, Participant.role == chat.CUSTOMER,
            Participant.customer_id == customer_id))

    def is_online_in(self, user_id: uuid.UUID, conversation_id: str, tenant_id: uuid.UUID | None = None) -> bool:
        """See :class:`PresenceSource`."""
        if tenant_id is None:
            return False
        try:
            participant = self._participant(user_id, conversation_id)
            return participant is not None and str(participant.id) in chat_presence.online(
                get_redis(), tenant_id, conversation_id)
        except (RedisError, SQLAlchemyError):  # presence is best effort
            log.warning("presence lookup failed", exc_info=True)
            return False

    def read_since(self, user_id: uuid.UUID, conversation_id: str, since: datetime,
                   tenant_id: uuid.UUID | None = None) -> bool:
        """See :class:`PresenceSource`."""
        if tenant_id is None:
            return False
        try:
            participant = self._participant(user_id, conversation_id)
            if participant is None:
                return False
            last = db.session.scalar(sa.select(sa.func.max(Message.seq)).where(
                Message.conversation_id == participant.conversation_id, Message.created_at <= since))
            return last is not None and participant.last_read_seq >= last
        except SQLAlchemyError:  # a read receipt is best effort
            log.warning("read-receipt lookup failed", exc_info=True)
            return False


_presence: PresenceSource = ChatPresence()


def set_presence_source(source: PresenceSource) -> PresenceSource:
    """Use ``source`` for presence from now on; returns the previous one (tests restore it)."""
    global _presence
    previous, _presence = _presence, source
    return previous


def presence() -> PresenceSource:
    """The presence source in use."""
    return _presence
