"""Metrics jobs: the incremental update after booking events and the nightly recompute.

* :func:`jobs_for_event` (an outbox router, :data:`app.outbox.relay.ROUTERS`): every
  ``booking.*`` event becomes :func:`recompute_booking_days` for the business, which rebuilds
  the UTC days of the booking's start (and of its previous start after a move: the payload's ``previous_start``).
  After it commits, :func:`refresh_platform_days_job` sums those days over every business for
  the console.
* :func:`periodic_recompute` (:data:`app.jobs.periodic.PERIODIC_JOBS`): at most once per UTC day
  (a Redis ``SET NX`` marker), rebuild the last :data:`NIGHTLY_DAYS` days of every business, so
  a lost event costs a day's delay, never a wrong number forever.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import redis

from app.booking.models import Booking
from app.extensions import db
from app.jobs.runner import JobSpec, enqueue, run_in_tenant, run_on_platform
from app.metrics.rollups import recompute_days, refresh_platform_days
from app.redis_client import get_redis
from app.tenants.context import platform_scope, require_tenant_id
from app.timeutil import utcnow
from app.uow import after_commit

TASKS = "app.metrics.tasks"
#: Days the nightly job recomputes (today and the days before it).
NIGHTLY_DAYS = 7
NIGHTLY_KEY = "plaza:metrics:nightly:{day}"


def jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router: a ``booking.*`` event with a ``booking_id`` updates that booking's days."""
    if kind.startswith("booking.") and payload.get("booking_id"):
        args = (tenant_id, str(payload["booking_id"]), str(payload.get("previous_start") or ""))
        return [JobSpec(f"{TASKS}.recompute_booking_days", args)]
    return []


def recompute_booking_days(tenant_id: str, booking_id: str, previous_start: str = "") -> str:
    """Job: rebuild the business's rollups for the UTC day of booking ``booking_id``'s start (and
    of ``previous_start``, an ISO 8601 instant, when given); returns the days as text or
    ``gone`` when the booking no longer exists."""
    return run_in_tenant(tenant_id, _recompute_booking_days, booking_id, previous_start)


def _recompute_booking_days(booking_id: str, previous_start: str) -> str:
    booking = db.session.get(Booking, (require_tenant_id(), uuid.UUID(booking_id)))
    if booking is None:
        return "gone"
    days = {booking.starts_at.astimezone(UTC).date()}
    if previous_start:
        days.add(datetime.fromisoformat(previous_start).astimezone(UTC).date())
    for day in sorted(days):
        recompute_days(day, day, require_tenant_id())
    first, last = min(days).isoformat(), max(days).isoformat()
    after_commit(lambda: enqueue(f"{TASKS}.refresh_platform_days_job", first, last))
    return ",".join(d.isoformat() for d in sorted(days))


def refresh_platform_days_job(first: str, last: str) -> str:
    """Job: rebuild the platform-wide rollups of UTC days ``first``..``last`` (ISO dates) from every
    business's rows; returns the days as text."""
    return run_on_platform(_refresh_platform_days, date.fromisoformat(first), date.fromisoformat(last))


def _refresh_platform_days(first: date, last: date) -> str:
    with platform_scope("metrics: platform-wide days"):
        refresh_platform_days(first, last)
    return f"{first.isoformat()}..{last.isoformat()}"


def periodic_recompute() -> str:
    """Periodic job: once per UTC day, rebuild the last :data:`NIGHTLY_DAYS` days of every
    business; returns ``done`` or ``skipped`` (already done today)."""
    return run_on_platform(_recompute_once_a_day, utcnow().date())


def _recompute_once_a_day(today: date) -> str:
    try:
        first = get_redis().set(NIGHTLY_KEY.format(day=today.isoformat()), "1", nx=True, ex=2 * 86400)
    except redis.RedisError:
        return "skipped"
    if not first:
        return "skipped"
    return recompute_recent(today)


def recompute_recent(today: date, days: int = NIGHTLY_DAYS) -> str:
    """Rebuild the ``days`` UTC days up to ``today`` for every business (platform scope); returns ``done``."""
    with platform_scope("metrics: nightly recompute"):
        recompute_days(today - timedelta(days=days - 1), today, None)
    return "done"
