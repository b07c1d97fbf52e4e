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
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import redis
import socketio
from flask import current_app, has_app_context

from app.config import settings_str

#: Flask-SocketIO's default pub/sub channel name.
CHANNEL = "flask-socketio"
NAMESPACE = "/"

_managers: dict[str, PipelinedRedisManager] = {}
_lock = threading.Lock()
#: The publishes held back by the innermost :func:`batched` block of this thread (None: none open).
_held: ContextVar[list[tuple[PipelinedRedisManager, dict[str, Any]]] | None] = ContextVar("plaza_held_emits",
                                                                                          default=None)


class PipelinedRedisManager(socketio.RedisManager):
    """The write-only Redis manager of :mod:`socketio`, whose publishes inside a :func:`batched`
    block are held and then sent in one Redis round trip (a pipeline of ``PUBLISH`` commands,
    in order) instead of one round trip each. Outside a block it publishes at once, as before.

    ``_publish`` is python-socketio's documented hook for a pub/sub backend
    (https://python-socketio.readthedocs.io/en/stable/server.html#using-a-message-queue).
    """

    def _publish(self, data: dict[str, Any]) -> Any:
        held = _held.get()
        if held is None:
            return super()._publish(data)
        held.append((self, data))
        return None

    def publish_all(self, messages: list[dict[str, Any]]) -> None:
        """Publish ``messages`` (socketio's emit packets) in order in one pipeline; when Redis
        fails meanwhile, each is published again on its own with the manager's reconnect and
        retry (a message may then reach a room twice: clients drop a chat message they have by
        its ``seq``, and an unread badge may count one too many until the page is reloaded)."""
        try:
            if self.redis is None:
                raise redis.ConnectionError("not connected yet")
            with self.redis.pipeline(transaction=False) as pipe:
                for data in messages:
                    pipe.publish(self.channel, self.json.dumps(data))
                pipe.execute()
        except redis.RedisError:
            for data in messages:
                super()._publish(data)


@contextmanager
def batched() -> Iterator[None]:
    """Hold every emit of this thread made inside the block, then publish them in one Redis
    round trip per server, in the order they were made, as the block ends (also when it raises:
    they describe a committed change). For an after-commit effect that tells several rooms about
    one change (a chat message: the conversation, the other accounts' unread badges, the staff).
    Blocks nest: the outermost one publishes."""
    if _held.get() is not None:
        yield
        return
    held: list[tuple[PipelinedRedisManager, dict[str, Any]]] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        by_manager: dict[int, tuple[PipelinedRedisManager, list[dict[str, Any]]]] = {}
        for manager, data in held:
            by_manager.setdefault(id(manager), (manager, []))[1].append(data)
        for manager, messages in by_manager.values():
            manager.publish_all(messages)


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


def _manager(redis_url: str | None = None) -> PipelinedRedisManager:
    url = _redis_url(redis_url)
    with _lock:
        mgr = _managers.get(url)
        if mgr is None:
            mgr = PipelinedRedisManager(url, channel=CHANNEL, write_only=True)
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
