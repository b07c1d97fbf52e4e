"""Building and storing ``marketplace_listing`` rows.

A listing is gathered on the tenant side (:func:`gather_listing`, the business in scope, read
through the usual tenant-scoped queries and the scheduling functions for the next free slot) and
written on the platform side (:func:`store_listing`, inside ``platform_scope``: the tenant role
may only read the table). :func:`refresh_listing` does both for the business in scope and is what
the outbox router's job and the sweep run per business (``app.jobs.runner.run_in_tenant``).

The rating is the business's exact review summary (:func:`app.reviews.queries.rating_summary`),
gathered with the rest on every refresh; a ``review.changed`` event triggers a refresh, so the
stored rating never depends on the order in which events are handled.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import redis
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Range, insert

from app.billing.plans import current_plan
from app.booking.slots import next_free_starts
from app.catalog.availability_version import version_key
from app.catalog.models import Service, StaffMember, WorkingHours
from app.catalog.service import QUOTED_JOB_CATEGORY
from app.extensions import db
from app.marketplace.geometry import cube_of
from app.marketplace.models import MarketplaceListing
from app.redis_client import get_redis
from app.reviews.queries import rating_summary
from app.tenants.context import platform_scope, require_tenant_id
from app.tenants.models import MarketplaceCategory, Tenant
from app.timeutil import utcnow

log = logging.getLogger("plaza.marketplace")

#: Minutes in a week; opening intervals are minutes from Monday 00:00 local time.
WEEK_MINUTES = 7 * 24 * 60
#: Full-text configuration of the search document (stems "barbers" to "barber").
TS_CONFIG = "english"
#: Adds a listing's words to ``marketplace_word`` (the fuzzy-matching vocabulary).
WORDS_SQL = sa.text("insert into marketplace_word (word) select distinct w from marketplace_listing, "
                    "unnest(tsvector_to_array(search_document)) as w where business_id = :id "
                    "and char_length(w) between 3 and 100 and w !~ '[0-9]' on conflict do nothing")
#: The review dimensions a rating summary carries.
DIMENSIONS = ("quality", "communication", "professionalism", "value")


@dataclass
class ListingData:
    """What a business shows the marketplace, gathered in its own scope (plain values only).

    ``price_from_amount`` minor units of ``price_currency``; ``next_available`` tz-aware UTC or
    ``None``; ``opening`` the merged weekly intervals ``(start, end)`` in minutes from Monday
    00:00 local; ``hours`` the same as ``[weekday, "HH:MM", "HH:MM"]`` for display.
    """

    business_id: uuid.UUID
    slug: str
    name: str
    category_slug: str | None
    city: str
    postcode: str
    country: str
    latitude: float | None
    longitude: float | None
    description: str
    timezone: str
    service_names: list[str] = field(default_factory=list)
    price_from_amount: int | None = None
    price_currency: str | None = None
    next_available: datetime | None = None
    next_service_id: uuid.UUID | None = None
    opening: list[tuple[int, int]] = field(default_factory=list)
    hours: list[list] = field(default_factory=list)
    plan_tier: str = "basic"
    suspended: bool = False
    unlisted: bool = False
    source_version: int = 0


def availability_version(tenant_id: uuid.UUID) -> int:
    """The business's availability version (:mod:`app.catalog.availability_version`; 0 when unset
    or when Redis cannot be reached)."""
    try:
        raw = get_redis().get(version_key(tenant_id))
    except (redis.RedisError, RuntimeError):  # unreadable: the sweep rebuilds the listing later
        log.warning("availability version unreadable", exc_info=True)
        return 0
    return int(raw or 0)


def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping union of half-open ``(start, end)`` minute intervals."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def weekly_opening(rows: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Opening intervals of the week from staff working hours ``(weekday, start_min, end_min)``
    (weekday 0 = Monday, minutes of the local day): their union in minutes from Monday 00:00."""
    return merge_intervals([(d * 1440 + a, d * 1440 + b) for d, a, b in rows if a < b])


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def gather_listing(now: datetime | None = None) -> ListingData:
    """The listing of the business in scope, read through its own tenant-scoped rows.

    Unlisted when it has no active service with an active performer. The next free slot is the
    earliest of each active service's next bookable start (:func:`app.booking.slots.next_free_starts`).

    Raises:
        TenantScopeError: no business in scope.
    """
    tid = require_tenant_id()
    now = now or utcnow()
    tenant = db.session.get(Tenant, tid)
    services = list(db.session.scalars(sa.select(Service).where(Service.active.is_(True),
                                                                Service.category != QUOTED_JOB_CATEGORY)
                                       .order_by(Service.position, Service.name)))
    active_staff = sa.select(StaffMember.id).where(StaffMember.active.is_(True))
    hours = db.session.execute(sa.select(WorkingHours.weekday, WorkingHours.start_time, WorkingHours.end_time)
                               .where(WorkingHours.staff_id.in_(active_staff))).all()
    opening = weekly_opening([(d, a.hour * 60 + a.minute, b.hour * 60 + b.minute) for d, a, b in hours])
    data = ListingData(
        business_id=tid, slug=tenant.slug, name=tenant.name, category_slug=tenant.category_slug,
        city=tenant.city, postcode=tenant.postcode, country=tenant.country, latitude=tenant.latitude,
        longitude=tenant.longitude, description=tenant.description, timezone=tenant.timezone,
        service_names=[s.name for s in services], opening=opening,
        hours=[[start // 1440, _hhmm(start % 1440), _hhmm(end - (start - start % 1440))] for start, end in opening],
        suspended=tenant.suspended_at is not None, source_version=availability_version(tid),
        plan_tier=current_plan(tenant, now).marketplace_tier,
    )
    priced = [s for s in services if s.price_amount > 0]
    if priced:
        cheapest = min(priced, key=lambda s: s.price_amount)
        data.price_from_amount, data.price_currency = cheapest.price_amount, cheapest.currency
    starts = [(start, svc.id) for svc in services for start in next_free_starts(tenant, svc, None, now, limit=1)]
    if starts:
        data.next_available, data.next_service_id = min(starts, key=lambda s: s[0])
    data.unlisted = not services
    return data


def _document(data: ListingData, category_name: str) -> sa.ColumnElement:
    def part(text: str, weight: str) -> sa.ColumnElement:
        return sa.func.setweight(sa.func.to_tsvector(sa.literal_column(f"'{TS_CONFIG}'::regconfig"), text),
                                 sa.literal_column(f"'{weight}'"))

    return (part(f"{data.name} {category_name}", "A").op("||")(part(" ".join(data.service_names), "B"))
            .op("||")(part(f"{data.city} {data.postcode} {data.description}", "C")))


def store_listing(data: ListingData) -> None:
    """Insert or update the listing row of ``data`` (inside ``platform_scope``: the platform role
    writes the read model; a rating already stored is kept). Flushes; the unit of work commits.

    Raises:
        PlatformRoleRequired: the open transaction is a tenant-role one that has written.
    """
    with platform_scope("marketplace listing"):
        category_name = ""
        if data.category_slug:
            category_name = db.session.scalar(
                sa.select(MarketplaceCategory.name).where(MarketplaceCategory.slug == data.category_slug)) or ""
        values = {
            "business_id": data.business_id, "slug": data.slug, "name": data.name,
            "category_slug": data.category_slug, "category_name": category_name, "city": data.city,
            "postcode": data.postcode, "country": data.country, "latitude": data.latitude,
            "longitude": data.longitude, "earth": cube_of(data.latitude, data.longitude),
            "description": data.description,
            "service_names": ", ".join(data.service_names),
            "search_text": " ".join([data.name, category_name, *data.service_names]).lower(),
            "search_document": _document(data, category_name),
            "price_from_amount": data.price_from_amount, "price_currency": data.price_currency,
            "next_available": data.next_available, "next_service_id": data.next_service_id,
            "timezone": data.timezone,
            "opening_minutes": [Range(a, b, bounds="[)") for a, b in data.opening],
            "opening_hours": data.hours, "plan_tier": data.plan_tier, "suspended": data.suspended,
            "unlisted": data.unlisted, "source_version": data.source_version, "updated_at": utcnow(),
        }
        stmt = insert(MarketplaceListing).values(**values)
        keep = {"business_id", "rating_average", "rating_count", "rating_dimensions"}
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=[MarketplaceListing.business_id],
            set_={k: stmt.excluded[k] for k in values if k not in keep}))
        db.session.execute(WORDS_SQL, {"id": data.business_id})
        db.session.flush()


def refresh_listing(now: datetime | None = None) -> uuid.UUID:
    """Rebuild the listing of the business in scope (:func:`gather_listing` then
    :func:`store_listing`); returns its id. Run as one unit of work per business."""
    data = gather_listing(now)
    summary = rating_summary()
    store_listing(data)
    store_rating(data.business_id, summary.as_payload())
    return data.business_id


def rating_values(summary: dict) -> dict:
    """The listing columns of a review summary ``{"average": float|None, "count": int,
    "dimensions": {name: float|None}}`` (part of the ``review.changed`` payload).

    Raises:
        ValueError: a count below 0, an average outside 1-5, or a malformed summary.
    """
    count = int(summary.get("count") or 0)
    average = summary.get("average")
    if count < 0:
        raise ValueError("a review count cannot be negative")
    if average is not None:
        average = float(average)
        if not 1 <= average <= 5:
            raise ValueError("a rating average lies between 1 and 5")
    if count == 0:
        average = None
    dims = summary.get("dimensions") or {}
    return {"rating_average": average, "rating_count": count,
            "rating_dimensions": {d: (float(dims[d]) if dims.get(d) is not None else None) for d in DIMENSIONS}}


def store_rating(business_id: uuid.UUID, summary: dict) -> bool:
    """Store a business's review summary on its listing (inside ``platform_scope``); returns
    False when the business has no listing yet (the next refresh creates it, and the reindex
    carries ratings over). Flushes.

    Raises:
        ValueError: see :func:`rating_values`.
    """
    values = rating_values(summary)
    with platform_scope("marketplace rating"):
        done = db.session.execute(sa.update(MarketplaceListing).where(MarketplaceListing.business_id == business_id)
                                  .values(**values, updated_at=utcnow()))
        db.session.flush()
    return bool(done.rowcount)
