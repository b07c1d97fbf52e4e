"""Emit Socket.IO events from any process (web, RQ worker, CLI) through the Redis message queue.

Every Plaza web process runs Flask-SocketIO with ``message_queue=REDIS_URL`` on the channel
:data:`CHANNEL`; a write-only :class:`socketio.RedisManager` here publishes to that channel,
so the process that holds the recipient's socket delivers it. No server is needed in the
emitting process and nothing here blocks on the clients.

Rooms (strings, see the helpers): ``user:<user_id>`` every socket of a person;
``conv:<tenant_id>:<conversation_id>`` a conversation; ``staff:<tenant_id>`` the staff of a
business.

Example (notifications)::

    from app.realtime.emit import emit_to_user
    emit_to_user(user.id, "notifications:badge", {"unread": 3})
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import socketio
from flask import current_app, has_app_context

from app.config import settings_str

#: Flask-SocketIO's default pub/sub channel name.
CHANNEL = "flask-socketio"
NAMESPACE = "/"

_managers: dict[str, socketio.RedisManager] = {}
_lock = threading.Lock()


def user_room(user_id: uuid.UUID | str) -> str:
    """Room of every socket of one account."""
    return f"user:{user_id}"


def conversation_room(tenant_id: uuid.UUID | str, conversation_id: uuid.UUID | str) -> str:
    """Room of the sockets that joined one conversation."""
    return f"conv:{tenant_id}:{conversation_id}"


def staff_room(tenant_id: uuid.UUID | str) -> str:
    """Room of the staff sockets connected on a business's host."""
    return f"staff:{tenant_id}"


def _redis_url(redis_url: str | None) -> str:
    if redis_url:
        return redis_url
    if has_app_context():
        return current_app.config["REDIS_URL"]
    return settings_str("REDIS_URL")


def _manager(redis_url: str | None = None) -> socketio.RedisManager:
    url = _redis_url(redis_url)
    with _lock:
        mgr = _managers.get(url)
        if mgr is None:
            mgr = socketio.RedisManager(url, channel=CHANNEL, write_only=True)
            _managers[url] = mgr
    return mgr


def emit_to_room(room: str, event: str, data: Any, *, redis_url: str | None = None) -> None:
    """Publish ``event`` with JSON-serialisable ``data`` to every socket in ``room`` on any
    web process. ``redis_url`` defaults to the app's ``REDIS_URL`` (or the environment's)."""
    _manager(redis_url).emit(event, data, namespace=NAMESPACE, room=room)


def emit_to_user(user_id: uuid.UUID | str, event: str, data: Any, *, redis_url: str | None = None) -> None:
    """Publish ``event`` to every open socket (tabs, devices) of the account ``user_id``.

    Usable from web requests and RQ jobs alike; call it after the transaction that caused
    the event has committed.
    """
    emit_to_room(user_room(user_id), event, data, redis_url=redis_url)


def emit_to_staff(tenant_id: uuid.UUID | str, event: str, data: Any, *, redis_url: str | None = None) -> None:
    """Publish ``event`` to the staff of a business connected on its host."""
    emit_to_room(staff_room(tenant_id), event, data, redis_url=redis_url)
