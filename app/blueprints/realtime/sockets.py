"""This process's registry of open sockets, and the presence broadcast they share.

The registry maps a Socket.IO ``sid`` to :class:`SocketInfo` (which actor the socket acts
for, and the conversations it joined). Handlers run on several threads (or greenlets) at
once, so every read and write of the registry goes through :data:`_lock`.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from app.chat import access
from app.chat.sending import SendGrant
from app.chat.service import Principal
from app.extensions import socketio
from app.realtime import presence
from app.realtime.emit import conversation_room

#: The acknowledgement of an event refused like a missing room.
REFUSED = {"ok": False, "error": "not_found"}
#: The acknowledgement of an event from a socket whose actor is no longer valid.
UNAUTHORIZED = {"ok": False, "error": "unauthorized"}


@dataclass
class Joined:
    """A conversation this socket joined, as whom."""

    tenant_id: uuid.UUID
    conversation_id: uuid.UUID
    participant_id: uuid.UUID
    principal: Principal
    #: How this socket posts here in one statement (:mod:`app.chat.sending`); ``None``: the full path.
    grant: SendGrant | None = None


@dataclass
class SocketInfo:
    """What this process knows about one of its sockets, and for which actor: an account
    (``user_id``, ``session_version``, ``session_id``: the server-side login session it was
    opened from) or, when ``guest`` is set, the guest of one booking (``user_id`` ``None``)."""

    user_id: uuid.UUID | None
    session_version: int
    host_tenant_id: uuid.UUID | None
    session_id: str | None
    connected_at: float
    joined: dict[str, Joined] = field(default_factory=dict)
    guest: access.BookingGuest | None = None


_sockets: dict[str, SocketInfo] = {}
_lock = threading.Lock()


def local_sockets() -> dict[str, SocketInfo]:
    """Snapshot of this process's sockets (sid -> info)."""
    with _lock:
        return dict(_sockets)


def get_socket(sid: str) -> SocketInfo | None:
    """The info of this process's socket ``sid``, or ``None`` when it is not (or no longer) known."""
    with _lock:
        return _sockets.get(sid)


def add_socket(sid: str, info: SocketInfo) -> None:
    """Register socket ``sid`` (on connect)."""
    with _lock:
        _sockets[sid] = info


def pop_socket(sid: str) -> SocketInfo | None:
    """Forget socket ``sid`` (on disconnect); its info, or ``None`` when it was not known."""
    with _lock:
        return _sockets.pop(sid, None)


def emit_presence(r: Any, tenant_id: uuid.UUID, conversation_id: uuid.UUID) -> None:
    """Send ``chat:presence {conversation_id, online[]}`` (participant ids with a live socket,
    sorted) to the conversation's room; ``r`` is the Redis client."""
    socketio.emit("chat:presence", {"conversation_id": str(conversation_id),
                                    "online": sorted(presence.online(r, tenant_id, conversation_id))},
                  to=conversation_room(tenant_id, conversation_id))
