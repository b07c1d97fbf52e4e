"""Operators' live locations in Redis, and the nearest-first search over them.

While online, an operator's phone sends its position over Socket.IO every few seconds. It is
kept in one geo set per service (``dispatch:geo:<service>``, member ``<tenant_id>:<operator_id>``,
the same member in every service its business offers) and a liveness key
``dispatch:alive:<tenant_id>:<operator_id>`` that expires :data:`LOCATION_TTL` seconds after the
last position. A member whose liveness key is gone is stale: :func:`nearby` skips it and removes
it from the set, so an operator whose phone went quiet drops out on its own.

Points are WGS 84 degrees; distances km.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import redis

#: Seconds an operator's last position counts as live.
LOCATION_TTL = 120


@dataclass(frozen=True)
class Nearby:
    """An operator near a point: its business, its id and the great-circle ``distance_km``."""

    tenant_id: uuid.UUID
    operator_id: uuid.UUID
    distance_km: float


def geo_key(service: str) -> str:
    """The geo set of the operators online for ``service``."""
    return f"dispatch:geo:{service}"


def alive_key(tenant_id: uuid.UUID | str, operator_id: uuid.UUID | str) -> str:
    """The key that exists while the operator's position is fresh."""
    return f"dispatch:alive:{tenant_id}:{operator_id}"


def member(tenant_id: uuid.UUID | str, operator_id: uuid.UUID | str) -> str:
    """The geo-set member of one operator."""
    return f"{tenant_id}:{operator_id}"


def put_location(r: redis.Redis, tenant_id: uuid.UUID, operator_id: uuid.UUID, services: list[str],
                 lat: float, lon: float, ttl: int = LOCATION_TTL) -> None:
    """Store the operator's position in the geo set of each of ``services`` and refresh its
    liveness for ``ttl`` seconds (one MULTI/EXEC).

    Raises:
        ValueError: ``lat``/``lon`` outside [-85.05, 85.05] / [-180, 180] (Redis's geo range).
        redis.RedisError: Redis failed.
    """
    if not (-85.05 <= lat <= 85.05 and -180 <= lon <= 180):
        raise ValueError("position out of range")
    name = member(tenant_id, operator_id)
    pipe = r.pipeline(transaction=True)
    for service in services:
        pipe.geoadd(geo_key(service), (lon, lat, name))
    pipe.set(alive_key(tenant_id, operator_id), f"{lat},{lon}", ex=ttl)
    pipe.execute()


def drop_location(r: redis.Redis, tenant_id: uuid.UUID, operator_id: uuid.UUID, services: list[str]) -> None:
    """Forget the operator's position (going offline): out of every geo set of ``services``."""
    name = member(tenant_id, operator_id)
    pipe = r.pipeline(transaction=True)
    for service in services:
        pipe.zrem(geo_key(service), name)
    pipe.delete(alive_key(tenant_id, operator_id))
    pipe.execute()


def last_position(r: redis.Redis, tenant_id: uuid.UUID, operator_id: uuid.UUID) -> tuple[float, float] | None:
    """The operator's live ``(lat, lon)``, or ``None`` when it is stale or unknown."""
    raw = r.get(alive_key(tenant_id, operator_id))
    if raw is None:
        return None
    lat, lon = raw.decode().split(",")
    return float(lat), float(lon)


def nearby(r: redis.Redis, service: str, lat: float, lon: float, radius_km: float, count: int = 30) -> list[Nearby]:
    """The live operators for ``service`` within ``radius_km`` of the point, nearest first, at
    most ``count`` (GEOSEARCH, then one pipelined liveness check; stale members are removed)."""
    hits = r.geosearch(geo_key(service), longitude=lon, latitude=lat, radius=radius_km, unit="km", sort="ASC",
                       count=count, withdist=True)
    if not hits:
        return []
    pipe = r.pipeline(transaction=False)
    for name, _ in hits:
        tid, oid = name.decode().split(":")
        pipe.exists(alive_key(tid, oid))
    alive = pipe.execute()
    found, stale = [], []
    for (name, dist), live in zip(hits, alive, strict=True):
        if live:
            tid, oid = name.decode().split(":")
            found.append(Nearby(uuid.UUID(tid), uuid.UUID(oid), float(dist)))
        else:
            stale.append(name)
    if stale:
        r.zrem(geo_key(service), *stale)
    return found
