"""The search counter behind search-to-booking conversion: one Redis ``INCR`` per search page
view, per UTC day (``plaza:metrics:searches:<YYYY-MM-DD>``, kept :data:`COUNTER_DAYS` days).

Counting never breaks the search page: when Redis cannot be reached the view is not counted.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import redis

from app.redis_client import get_redis
from app.timeutil import utcnow

log = logging.getLogger("plaza.metrics")

#: Days a day's counter is kept.
COUNTER_DAYS = 400
KEY = "plaza:metrics:searches:{day}"


def count_search(day: date | None = None) -> None:
    """Count one search page view on UTC ``day`` (today by default); a Redis failure is logged only."""
    key = KEY.format(day=(day or utcnow().date()).isoformat())
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, COUNTER_DAYS * 86400)
        pipe.execute()
    except redis.RedisError:
        log.warning("search counter unavailable", exc_info=True)


def searches_by_day(first: date, last: date) -> dict[date, int]:
    """Search page views per UTC day from ``first`` to ``last`` inclusive (0 for days without any,
    and every day when Redis cannot be reached)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    try:
        values = get_redis().mget([KEY.format(day=d.isoformat()) for d in days]) if days else []
    except redis.RedisError:
        log.warning("search counter unavailable", exc_info=True)
        values = [None] * len(days)
    return {d: int(v or 0) for d, v in zip(days, values, strict=True)}
