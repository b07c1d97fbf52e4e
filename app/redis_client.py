"""The process's Redis client, from ``REDIS_URL``."""

from __future__ import annotations

import redis
from flask import current_app


def get_redis() -> redis.Redis:
    """A shared :class:`redis.Redis` for the current app (one connection pool per app)."""
    client = current_app.extensions.get("plaza_redis")
    if client is None:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["plaza_redis"] = client
    return client
