"""Presence: who has a socket in a conversation right now, across every web process.

Redis set ``chat:presence:<tenant>:<conversation>`` holds ``<proc>|<participant_id>|<sid>``
entries. Each web process refreshes ``chat:proc:<proc>`` every few seconds (see
:mod:`app.blueprints.realtime.watchdog`); entries of a process whose key expired (it died) are dropped
on read, so a killed process does not leave people "online".
"""

from __future__ import annotations

import os
import uuid

import redis

#: Seconds after which a silent process's sockets count as gone.
PROC_TTL = 15
PROC_ID = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _key(tenant_id: object, conversation_id: object) -> str:
    return f"chat:presence:{tenant_id}:{conversation_id}"


def heartbeat(r: redis.Redis) -> None:
    """Mark this process alive for :data:`PROC_TTL` seconds."""
    r.set(f"chat:proc:{PROC_ID}", "1", ex=PROC_TTL)


def add(r: redis.Redis, tenant_id: object, conversation_id: object, participant_id: object, sid: str) -> None:
    """Record that ``participant_id`` has socket ``sid`` in the conversation."""
    heartbeat(r)
    r.sadd(_key(tenant_id, conversation_id), f"{PROC_ID}|{participant_id}|{sid}")


def remove(r: redis.Redis, tenant_id: object, conversation_id: object, participant_id: object, sid: str) -> None:
    """Forget socket ``sid`` of ``participant_id`` in the conversation."""
    r.srem(_key(tenant_id, conversation_id), f"{PROC_ID}|{participant_id}|{sid}")


def online(r: redis.Redis, tenant_id: object, conversation_id: object) -> set[str]:
    """Participant ids (strings) with at least one live socket in the conversation."""
    key = _key(tenant_id, conversation_id)
    members = [m.decode() for m in r.smembers(key)]
    procs = sorted({m.split("|", 1)[0] for m in members})
    alive = dict(zip(procs, r.mget([f"chat:proc:{p}" for p in procs]), strict=True)) if procs else {}
    out: set[str] = set()
    stale: list[str] = []
    for m in members:
        proc, participant, _sid = m.split("|", 2)
        if alive.get(proc):
            out.add(participant)
        else:
            stale.append(m)
    if stale:
        r.srem(key, *stale)
    return out
