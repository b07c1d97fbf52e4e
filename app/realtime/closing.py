"""Closing every open socket of a person or of a business, from any process, through the
Socket.IO message queue.

Each web process records its sockets in Redis sets (:func:`track` on connect, :func:`untrack`
on disconnect): ``rt:sockets:user:<user_id>`` every socket of an account,
``rt:sockets:tenant:<tenant_id>`` every socket opened on a business's host. :func:`close_user`
and :func:`close_tenant` publish one Socket.IO ``disconnect`` message per recorded sid on the
queue's channel (:data:`app.realtime.emit.CHANNEL`, JSON like python-socketio's own), so the
process holding the socket closes it at once. A sid of a process that died is simply unknown
to every process (nothing happens); the sets expire after :data:`TTL_SECONDS` without a new socket.
"""

from __future__ import annotations

import json
import uuid

import redis

from app.realtime.emit import CHANNEL, NAMESPACE

#: Seconds a set of sids lives after its last new socket (longer than any socket lives).
TTL_SECONDS = 2 * 24 * 3600
#: ``host_id`` of the published messages (no Socket.IO server has it, so every one handles them).
PUBLISHER = "plaza-closing"


def user_key(user_id: uuid.UUID | str) -> str:
    """The Redis set of an account's sids."""
    return f"rt:sockets:user:{user_id}"


def tenant_key(tenant_id: uuid.UUID | str) -> str:
    """The Redis set of the sids opened on a business's host."""
    return f"rt:sockets:tenant:{tenant_id}"


def _keys(user_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> list[str]:
    return ([user_key(user_id)] if user_id else []) + ([tenant_key(tenant_id)] if tenant_id else [])


def track(r: redis.Redis, sid: str, user_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> None:
    """Record socket ``sid`` of account ``user_id`` (``None``: a guest) on the host of business
    ``tenant_id`` (``None``: the apex)."""
    pipe = r.pipeline()
    for key in _keys(user_id, tenant_id):
        pipe.sadd(key, sid)
        pipe.expire(key, TTL_SECONDS)
    pipe.execute()


def untrack(r: redis.Redis, sid: str, user_id: uuid.UUID | None, tenant_id: uuid.UUID | None) -> None:
    """Forget socket ``sid`` (on disconnect)."""
    pipe = r.pipeline()
    for key in _keys(user_id, tenant_id):
        pipe.srem(key, sid)
    pipe.execute()


def _close(r: redis.Redis, key: str) -> int:
    sids = [s.decode() for s in r.smembers(key)]
    for sid in sids:
        r.publish(CHANNEL, json.dumps({"method": "disconnect", "sid": sid, "namespace": NAMESPACE,
                                       "host_id": PUBLISHER}))
    if sids:
        r.srem(key, *sids)
    return len(sids)


def close_user(r: redis.Redis, user_id: uuid.UUID | str) -> int:
    """Ask every web process to close every socket of account ``user_id``; the number of sids
    asked for. Call it after the commit that suspended the account.

    Raises:
        redis.RedisError: Redis unreachable.
    """
    return _close(r, user_key(user_id))


def close_tenant(r: redis.Redis, tenant_id: uuid.UUID | str) -> int:
    """Ask every web process to close every socket opened on business ``tenant_id``'s host;
    the number of sids asked for. Call it after the commit that suspended the business.

    Raises:
        redis.RedisError: Redis unreachable.
    """
    return _close(r, tenant_key(tenant_id))
