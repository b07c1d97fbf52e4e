"""Tenant-namespaced availability cache in Redis, invalidated by version bump.

A change that affects availability calls :func:`app.catalog.availability_version.bump_version`;
the bump is applied when the session commits, so a reader never caches old data under the new
version.
Keys: ``plaza:t:<tenant_id>:avail:v<version>:…``.
"""

from __future__ import annotations

import json
import uuid

import redis

from app.catalog.availability_version import bump_version, version_key

__all__ = ["bump_version", "cache_get", "cache_set", "current_version", "entry_key", "raw_cache_get", "version_key"]


def entry_key(tenant_id: uuid.UUID, version: int, parts: tuple[str, ...]) -> str:
    """The Redis key of the cache entry of ``parts`` at availability ``version`` of the tenant."""
    return f"plaza:t:{tenant_id}:avail:v{version}:" + ":".join(parts)


def current_version(client: redis.Redis, tenant_id: uuid.UUID) -> int:
    """The tenant's availability version now (0 when never bumped)."""
    return int(client.get(version_key(tenant_id)) or 0)


def cache_get(client: redis.Redis, tenant_id: uuid.UUID, parts: tuple[str, ...]) -> tuple[str, object | None]:
    """Return ``(key, value)`` for the cache entry of ``parts`` at the tenant's current version."""
    key = entry_key(tenant_id, current_version(client, tenant_id), parts)
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
