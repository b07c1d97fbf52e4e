"""Tenant-namespaced availability cache in Redis, invalidated by version bump.

A change that affects availability calls :func:`bump_version`; the bump is applied
when the session commits, so a reader never caches old data under the new version.
Keys: ``plaza:t:<tenant_id>:avail:v<version>:…``.
"""

from __future__ import annotations

import json
import logging
import uuid

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.tenants.context import current_tenant_id

log = logging.getLogger("plaza.cache")
_PENDING = "plaza_bump_tenants"


def version_key(tenant_id: uuid.UUID) -> str:
    """Redis key of a tenant's availability version counter."""
    return f"plaza:t:{tenant_id}:avail:version"


def bump_version(tenant_id: uuid.UUID | None = None) -> None:
    """Invalidate the tenant's cached availability when the current transaction commits."""
    from app.extensions import db

    tid = tenant_id or current_tenant_id()
    if tid is None:
        return
    db.session().info.setdefault(_PENDING, set()).add(tid)


@event.listens_for(Session, "after_commit")
def _apply_bumps(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    try:
        from app.redis_client import get_redis

        pipe = get_redis().pipeline()
        for tid in pending:
            pipe.incr(version_key(tid))
        pipe.execute()
    except (redis.RedisError, RuntimeError):
        log.exception("availability cache bump failed")


@event.listens_for(Session, "after_rollback")
def _drop_bumps(session: Session) -> None:
    session.info.pop(_PENDING, None)


def cache_get(client: redis.Redis, tenant_id: uuid.UUID, parts: tuple[str, ...]) -> tuple[str, object | None]:
    """Return ``(key, value)`` for the cache entry of ``parts`` at the tenant's current version."""
    version = int(client.get(version_key(tenant_id)) or 0)
    key = f"plaza:t:{tenant_id}:avail:v{version}:" + ":".join(parts)
    raw = client.get(key)
    return key, (json.loads(raw) if raw is not None else None)


def cache_set(client: redis.Redis, key: str, value: object, ttl_seconds: int) -> None:
    """Store ``value`` (JSON-serialisable) under ``key`` for ``ttl_seconds``."""
    client.set(key, json.dumps(value), ex=ttl_seconds)


_SCRIPTS: dict[int, object] = {}

# Reads the tenant's version and the entry under it in one round trip.
_GET_AT_VERSION = """
local version = redis.call('GET', KEYS[1]) or '0'
local key = ARGV[1] .. version .. ARGV[2]
return {key, redis.call('GET', key)}
"""


def raw_cache_get(client: redis.Redis, tenant_id: uuid.UUID, parts: tuple[str, ...]) -> tuple[str, bytes | None]:
    """Like :func:`cache_get` but in one round trip, returning the stored bytes undecoded."""
    script = _SCRIPTS.get(id(client))
    if script is None:
        script = _SCRIPTS[id(client)] = client.register_script(_GET_AT_VERSION)
    key, value = script(keys=[version_key(tenant_id)],
                        args=[f"plaza:t:{tenant_id}:avail:v", ":" + ":".join(parts)])
    return (key.decode() if isinstance(key, bytes) else key), (value or None)
