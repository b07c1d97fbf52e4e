"""Keeping ``marketplace_listing`` current: the outbox router, the jobs, the sweep, the reindex.

* :func:`listing_jobs_for_event` (in :data:`app.outbox.relay.ROUTERS`): booking, catalogue,
  profile and billing events refresh the business's listing; ``review.changed`` stores the
  business's new review summary.
* :func:`periodic_sweep` (every ``PLAZA_SWEEP_INTERVAL`` seconds): refreshes every business whose
  availability version moved, whose next free slot has passed, whose suspension changed, or whose
  row is older than :data:`MAX_AGE`, so a listing is stale by at most a minute.
* :func:`reindex_all` (``flask marketplace reindex``): rebuilds every row, keeping stored ratings.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.catalog.availability_version import version_key
from app.extensions import db
from app.jobs.runner import JobSpec, run_in_tenant, run_on_platform
from app.marketplace.indexer import refresh_listing
from app.marketplace.models import MarketplaceListing
from app.redis_client import get_redis
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow

log = logging.getLogger("plaza.marketplace")

TASKS = "app.marketplace.tasks"
#: Event kinds (by prefix) after which a business's listing is rebuilt.
REFRESH_PREFIXES = ("booking.", "catalog.", "service.", "staff.", "business.", "billing.", "subscription.")
#: The event carrying a business's review summary after a change (part of the reviews package).
REVIEW_CHANGED = "review.changed"
#: A listing older than this is rebuilt by the sweep even when nothing announced a change.
MAX_AGE = timedelta(hours=1)
#: A listing without any free slot is rebuilt this often (new hours or a cancellation may open one).
NO_SLOT_AGE = timedelta(minutes=10)


def listing_jobs_for_event(kind: str, tenant_id: str, event_id: str, payload: dict) -> list[JobSpec]:
    """Outbox router: the marketplace jobs an event causes (``tenant_id`` and ``payload`` as the
    relay gives them): a refresh for booking/catalogue/profile/billing and ``review.changed`` events
    (the refresh reads the exact review summary), nothing otherwise."""
    if kind == REVIEW_CHANGED or kind.startswith(REFRESH_PREFIXES):
        return [JobSpec(f"{TASKS}.refresh_listing_job", (tenant_id,))]
    return []


def refresh_listing_job(tenant_id: str) -> str:
    """Job: rebuild one business's listing (one unit of work in its scope); returns its id."""
    return str(run_in_tenant(tenant_id, refresh_listing))


def _versions(ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    raw = get_redis().mget([version_key(i) for i in ids])
    return {i: int(v or 0) for i, v in zip(ids, raw, strict=True)}


#: Tenant columns a listing copies; a difference means the profile changed since the last build.
PROFILE_COLUMNS = ("slug", "name", "category_slug", "city", "postcode", "country", "latitude", "longitude",
                   "description", "timezone")


def stale_business_ids(now: datetime | None = None) -> list[uuid.UUID]:
    """Ids of the businesses whose listing must be rebuilt now: no listing yet, the availability
    version moved (services, staff, hours, time off, bookings), the profile differs from the
    listing, the suspension changed, the next free slot has passed or come within the business's
    lead time (it can no longer be booked), or the row is older than
    :data:`MAX_AGE` (:data:`NO_SLOT_AGE` without a free slot). Platform role; needs an app context."""
    now = now or utcnow()
    profile_changed = sa.or_(*[getattr(Tenant, c).is_distinct_from(getattr(MarketplaceListing, c))
                               for c in PROFILE_COLUMNS])
    with platform_scope("marketplace sweep"):
        rows = db.session.execute(
            sa.select(Tenant.id, Tenant.suspended_at, Tenant.lead_time_minutes, MarketplaceListing.business_id,
                      MarketplaceListing.source_version,
                      MarketplaceListing.next_available, MarketplaceListing.updated_at, MarketplaceListing.suspended,
                      profile_changed)
            .outerjoin(MarketplaceListing, MarketplaceListing.business_id == Tenant.id)).all()
    versions = _versions([r[0] for r in rows])
    stale = []
    for tid, suspended_at, lead, listed, version, next_at, updated, suspended, changed in rows:
        bookable_until = next_at - timedelta(minutes=lead or 0) if next_at is not None else None
        if (listed is None or changed or version != versions.get(tid, 0) or (suspended_at is not None) != suspended
                or updated < now - MAX_AGE or (bookable_until is not None and bookable_until <= now)
                or (next_at is None and updated < now - NO_SLOT_AGE)):
            stale.append(tid)
    return stale


def refresh_many(ids: list[uuid.UUID]) -> int:
    """Rebuild the listings of ``ids``, each in its own unit of work and scope; a business whose
    rebuild fails is logged and skipped. Returns how many were rebuilt."""
    done = 0
    for tid in ids:
        try:
            run_in_tenant(str(tid), refresh_listing)
            done += 1
        except Exception:  # noqa: BLE001 - one broken business must not stop the others
            log.exception("marketplace listing refresh failed", extra={"tenant_id": str(tid)})
    return done


def periodic_sweep() -> int:
    """Periodic job: rebuild every stale listing (:func:`stale_business_ids`); returns how many."""
    return refresh_many(run_on_platform(stale_business_ids))


def all_business_ids() -> list[uuid.UUID]:
    """Every business's id (platform role), for the reindex."""
    with platform_scope("marketplace reindex"):
        return list(db.session.scalars(sa.select(Tenant.id).order_by(Tenant.created_at)))


def reindex_all() -> int:
    """Rebuild every business's listing, its exact rating included (``flask marketplace reindex``).
    Returns how many were rebuilt."""
    return refresh_many(run_on_platform(all_business_ids))
