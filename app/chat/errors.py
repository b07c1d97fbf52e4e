"""Typed errors of the chat domain; ``message`` is user-facing."""

from __future__ import annotations

from app.errors import InputError


class ChatError(InputError):
    """Base of chat errors; ``field`` names the form field at fault (or ``None``)."""

    field: str | None = "body"


class EmptyMessage(ChatError):
    """The message body is empty or only whitespace."""


class MessageTooLong(ChatError):
    """The message body is longer than :data:`app.chat.service.MAX_BODY` characters."""


class RateLimited(ChatError):
    """The author sent too many messages in the rate window."""


class NotParticipant(ChatError):
    """The principal may not read or write this conversation (answered as 404 by views)."""

    field = None


class ConversationClosed(ChatError):
    """The booking's customer may no longer write in its conversation (the booking is
    cancelled, or gone): :func:`app.chat.service.closed_reason`. Answered as 409 by views and
    as the error acknowledgement on sockets."""

    field = None


class ChatStateError(RuntimeError):
    """A row the chat just wrote (or found) is not there to read back: the database broke an
    invariant of the chat tables (raised instead of ``assert``, which ``python -O`` drops).
    Not a user error: an unexpected 500, logged."""
