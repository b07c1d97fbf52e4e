"""Availability from the database: load schedules, call the pure function, cache in Redis."""

from __future__ import annotations

import json
import uuid
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import redis
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from app.catalog.models import DateOverride, Service, ServiceStaff, StaffMember, TimeOff, WorkingHours
from app.errors import InputError
from app.extensions import db
from app.redis_client import get_redis
from app.scheduling.availability import (
    Interval,
    ServiceSpec,
    Slot,
    StaffSchedule,
    TimeRange,
    merge_any_staff,
)
from app.scheduling.busy import busy_bookings
from app.scheduling.cache import cache_get, cache_set, current_version, entry_key, raw_cache_get
from app.scheduling.grid import StaffPlan, as_slots, grid_slots, to_us
from app.scheduling.inputs import load_plans
from app.tenants.models import Tenant
from app.timeutil import utcnow, zone

MAX_RANGE_DAYS = 62


class AvailabilityError(InputError, ValueError):
    """Bad availability query (unknown service or staff, bad dates); ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def performers(service_id: uuid.UUID) -> dict[uuid.UUID, int | None]:
    """Active staff performing ``service_id`` -> their duration override (minutes) or None."""
    rows = db.session.execute(
        sa.select(ServiceStaff.staff_id, ServiceStaff.duration_minutes)
        .join(StaffMember, sa.and_(StaffMember.id == ServiceStaff.staff_id,
                                   StaffMember.tenant_id == ServiceStaff.tenant_id))
        .where(ServiceStaff.service_id == service_id, StaffMember.active.is_(True))
        .order_by(StaffMember.position, StaffMember.name)
    )
    return {sid: dur for sid, dur in rows}


def chain_performers(services: Sequence[Service]) -> dict[uuid.UUID, int]:
    """Active staff performing EVERY service of ``services`` (in order, back to back) -> the
    chain's total length with them (whole minutes: each service's per-staff duration override,
    else its own duration), in the business's staff order. Empty when nobody performs them all."""
    totals: dict[uuid.UUID, int] | None = None
    for service in services:
        durations = performers(service.id)
        if totals is None:
            totals = {sid: 0 for sid in durations}
        totals = {sid: total + (durations[sid] or service.duration_minutes)
                  for sid, total in totals.items() if sid in durations}
    return totals or {}


def chain_spec(services: Sequence[Service]) -> ServiceSpec:
    """The timing of ``services`` booked back to back: the sum of their durations (minutes), the
    first one's buffer before and the last one's buffer after (the buffers between the services
    of one booking are not kept: the same customer stays in the chair)."""
    return ServiceSpec(sum(s.duration_minutes for s in services), services[0].buffer_before_minutes,
                       services[-1].buffer_after_minutes)


def load_schedules(staff_durations: dict[uuid.UUID, int | None], start: datetime, end: datetime, *,
                   tenant_id: uuid.UUID) -> list[StaffSchedule]:
    """Build :class:`StaffSchedule` inputs for the staff in ``staff_durations`` over ``[start, end)`` UTC.

    Busy intervals are time off plus the blocked ranges of the tenant's slot-holding bookings
    (:func:`app.scheduling.busy.busy_bookings`).
    """
    ids = list(staff_durations)
    if not ids:
        return []
    weekly: dict[uuid.UUID, dict[int, list[TimeRange]]] = defaultdict(lambda: defaultdict(list))
    for row in db.session.scalars(sa.select(WorkingHours).where(WorkingHours.staff_id.in_(ids))):
        weekly[row.staff_id][row.weekday].append(TimeRange(row.start_time, row.end_time))
    overrides: dict[uuid.UUID, dict[date, list[TimeRange]]] = defaultdict(lambda: defaultdict(list))
    lo, hi = (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    for row in db.session.scalars(sa.select(DateOverride).where(
            DateOverride.staff_id.in_(ids), DateOverride.on_date.between(lo, hi))):
        day = overrides[row.staff_id][row.on_date]
        if row.start_time is not None and row.end_time is not None:
            day.append(TimeRange(row.start_time, row.end_time))
    busy: dict[uuid.UUID, list[Interval]] = defaultdict(list)
    for sid, s, e in db.session.execute(sa.select(TimeOff.staff_id, TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.staff_id.in_(ids), TimeOff.starts_at < end, TimeOff.ends_at > start)):
        busy[sid].append(Interval(s.astimezone(UTC), e.astimezone(UTC)))
    for sid, interval in busy_bookings(tenant_id, ids, start, end):
        busy[sid].append(interval)
    return [
        StaffSchedule(staff_id=str(sid), weekly={k: tuple(v) for k, v in weekly[sid].items()},
                      overrides={k: tuple(v) for k, v in overrides[sid].items()},
                      busy=tuple(busy[sid]), duration_minutes=staff_durations[sid])
        for sid in ids
    ]


def _check_range(start_date: date, end_date: date) -> None:
    if end_date < start_date:
        raise AvailabilityError("end", _("end is before start."))
    if (end_date - start_date).days + 1 > MAX_RANGE_DAYS:
        raise AvailabilityError("end", _("Ask for at most %(days)d days at a time.", days=MAX_RANGE_DAYS))


def _cache_parts(tenant: Tenant, service: Service | uuid.UUID, staff_id: uuid.UUID | None, start_date: date,
                 end_date: date, also: Sequence[Service] = ()) -> tuple[str, ...]:
    service_id = service if isinstance(service, uuid.UUID) else service.id
    return ("+".join([str(service_id), *(str(s.id) for s in also)]), str(staff_id or "any"), start_date.isoformat(),
            end_date.isoformat(),
            str(tenant.slot_interval_minutes))


def _redis() -> redis.Redis | None:
    """The app's Redis client, or ``None`` outside an app context (the cache is skipped)."""
    try:
        return get_redis()
    except RuntimeError:
        return None


def _staff_durations(service: Service, staff_id: uuid.UUID | None,
                     also: Sequence[Service] = ()) -> dict[uuid.UUID, int | None]:
    """The performers of ``service`` (then ``also``, back to back) in preference order -> their
    duration override in minutes (or ``None``); only ``staff_id`` when given.

    Raises:
        AvailabilityError: the staff member does not perform the service(s).
    """
    staff_durations: dict[uuid.UUID, int | None]
    if also:
        staff_durations = dict(chain_performers([service, *also]))
    else:
        staff_durations = performers(service.id)
    if staff_id is not None:
        if staff_id not in staff_durations:
            raise AvailabilityError("staff_id", _("This staff member does not perform this service."))
        staff_durations = {staff_id: staff_durations[staff_id]}
    return staff_durations


#: "No horizon" for the cached computation (lead time and horizon are applied by callers), in µs.
_NO_HORIZON_US = 100_000 * 86_400 * 1_000_000


def _computed(tenant: Tenant, service: Service, staff_durations: dict[uuid.UUID, int | None], start_date: date,
              end_date: date, also: Sequence[Service] = (),
              loaded: dict[uuid.UUID, StaffPlan] | None = None) -> list[tuple[int, int, str]]:
    """Every performer's slots over the dates as ``(start_us, end_us, staff_id)`` (UTC microseconds),
    before lead time and horizon, computed from PostgreSQL in one statement (:mod:`app.scheduling.inputs`)
    on integers (:mod:`app.scheduling.grid`). ``loaded``: the staff's plans already read over the same
    dates (by :func:`load_plans` for several services at once); their durations are set here."""
    tz = zone(tenant.timezone)
    first = datetime.combine(start_date, datetime.min.time(), tzinfo=tz).astimezone(UTC) - timedelta(days=1)
    last = datetime.combine(end_date, datetime.min.time(), tzinfo=tz).astimezone(UTC) + timedelta(days=2)
    if loaded is None:
        plans = load_plans(staff_durations, first, last, tenant_id=tenant.id)
    else:
        plans = [replace(loaded[sid], duration_minutes=minutes) for sid, minutes in staff_durations.items()]
    earliest = to_us(first)
    return grid_slots(tz=tz, plans=plans, service=chain_spec([service, *also]),
                      slot_interval_minutes=tenant.slot_interval_minutes, start_date=start_date, end_date=end_date,
                      earliest_us=earliest, horizon_us=earliest + _NO_HORIZON_US)


def _unfiltered_slots(tenant: Tenant, service: Service, staff_id: uuid.UUID | None, start_date: date,
                      end_date: date, also: Sequence[Service] = ()) -> tuple[list[Slot], list[uuid.UUID]]:
    """Every performer's slots over the dates, before lead time and horizon; and the
    performer ids in preference order. Served from the Redis cache when possible. With
    ``also`` (more services after ``service``, back to back) a slot is the whole chain's span,
    offered by staff who perform every service (:func:`chain_performers`, :func:`chain_spec`).

    Raises:
        AvailabilityError: the staff member does not perform the service(s).
    """
    staff_durations = _staff_durations(service, staff_id, also)
    order = list(staff_durations)
    client = _redis()
    key = ""
    if client is not None:
        try:
            key, cached = cache_get(client, tenant.id,
                                    ("us", *_cache_parts(tenant, service, staff_id, start_date, end_date, also)))
            if cached is not None:
                return as_slots(cached), order
        except redis.RedisError:
            client = None
    rows = _computed(tenant, service, staff_durations, start_date, end_date, also)
    if client is not None:
        try:
            cache_set(client, key, rows, current_app.config.get("AVAILABILITY_CACHE_SECONDS", 300))
        except redis.RedisError:
            pass
    return as_slots(rows), order


def _window(tenant: Tenant, now: datetime | None) -> tuple[datetime, datetime]:
    now = now or utcnow()
    return now + timedelta(minutes=tenant.lead_time_minutes), now + timedelta(days=tenant.horizon_days)


def find_slots(tenant: Tenant, service: Service, *, staff_id: uuid.UUID | None, start_date: date,
               end_date: date, now: datetime | None = None, any_staff_merge: bool = False,
               also: Sequence[Service] = ()) -> list[Slot]:
    """Bookable slots of ``service`` between two dates (inclusive, the business's zone).

    With ``also``, the slots of ``service`` followed back to back by those services (one staff
    member performing all of them; a slot's ``end`` is the last service's end).

    With ``staff_id`` only that staff member's slots; otherwise every performer's, or one
    per start time when ``any_staff_merge``. Lead time and horizon are applied against
    ``now`` (default: the current instant). Results come from the Redis cache when the
    tenant's availability version is unchanged.

    Raises:
        AvailabilityError: the staff member does not perform the service, or the range is
            reversed or longer than 62 days.
    """
    _check_range(start_date, end_date)
    slots, order = _unfiltered_slots(tenant, service, staff_id, start_date, end_date, also)
    earliest, latest = _window(tenant, now)
    slots = [s for s in slots if earliest <= s.start < latest]
    if any_staff_merge:
        rank = {str(sid): i for i, sid in enumerate(order)}
        slots = merge_any_staff(sorted(slots, key=lambda s: (s.start, rank.get(s.staff_id, 0))))
    return slots


def availability_json(tenant: Tenant, service: Service | uuid.UUID, *, staff_id: uuid.UUID | None, start_date: date,
                      end_date: date, tz_name: str, now: datetime | None = None,
                      also: Sequence[Service] = ()) -> bytes:
    """The API's availability document as UTF-8 JSON bytes:
    ``{"timezone": tz_name, "slots": [{"start", "end", "staff_id"}]}`` with RFC 3339 times
    written in ``tz_name``. Without ``staff_id`` ("any staff") the performers are merged: one
    slot per start time, naming the first free staff member in the business's order. Lead
    time and horizon are applied against ``now``.

    The rendered slots are cached per tenant version and zone, so a warm request only
    slices a pre-rendered list (the hot path of storefront widgets and integrations); given a
    service id, the service is loaded only on a cache miss (any change to a service bumps
    the tenant's version). With ``also`` (services after it, back to back) the slots are the
    whole chain's (:func:`find_slots`).

    Raises:
        AvailabilityError: as :func:`find_slots`, and ``service_id`` when no active service has the id.
        ValueError: ``tz_name`` is not an IANA zone.
    """
    _check_range(start_date, end_date)
    tz = zone(tz_name)
    earliest, latest = _window(tenant, now)
    client = _redis()
    parts = ("doc.v2", *_cache_parts(tenant, service, staff_id, start_date, end_date, also), tz_name)
    packed: bytes | None = None
    key = ""
    if client is not None:
        try:
            key, packed = raw_cache_get(client, tenant.id, parts)
        except redis.RedisError:
            client = None
    if packed is None:
        if isinstance(service, uuid.UUID):
            found = db.session.scalar(sa.select(Service).where(Service.id == service, Service.active.is_(True)))
            if found is None:
                raise AvailabilityError("service_id", _("There is no active service with this id."))
            service = found
        staff_durations = _staff_durations(service, staff_id, also)
        rows = _computed(tenant, service, staff_durations, start_date, end_date, also)
        if staff_id is None:
            rows = merge_rows_any_staff(rows, [str(sid) for sid in staff_durations])
        packed = pack_rows(rows, tz)
        if client is not None:
            try:
                client.set(key, packed, ex=current_app.config.get("AVAILABILITY_CACHE_SECONDS", 300))
            except redis.RedisError:
                pass
    starts, fragments = unpack_rendered(packed)
    lo, hi = bisect_left(starts, earliest.timestamp()), bisect_left(starts, latest.timestamp())
    return b'{"timezone":' + json.dumps(tz_name).encode() + b',"slots":[' + b",".join(fragments[lo:hi]) + b"]}"


#: Days from today (the business's local date, inclusive) that :func:`warm_popular_ranges` computes.
POPULAR_DAYS = 14


def popular_range(tenant: Tenant, now: datetime | None = None) -> tuple[date, date]:
    """The range customers ask for most, which :func:`warm_popular_ranges` keeps cached: today in
    the business's zone and the 13 days after (the storefront's first two-week strip)."""
    today = (now or utcnow()).astimezone(zone(tenant.timezone)).date()
    return today, today + timedelta(days=POPULAR_DAYS - 1)


def warm_popular_ranges(tenant_id: uuid.UUID, version: int) -> int:
    """Compute and cache, under availability ``version``, each active service's "any staff" slots over
    :func:`popular_range`: the storefront's entry and the API document in the business's zone. The
    hours and busy time of every performer are read once (one statement) for all the services;
    each service is stored as soon as it is computed, the business's first services first.
    Returns how many services were cached; ``-1`` (nothing done) when the tenant's version is no
    longer ``version`` (a later change queued its own run), Redis is unavailable or the business is gone.

    The version is read BEFORE any data (the business's own row included): every change whose bump is at most
    ``version`` committed before the bump was applied, so the data read afterwards includes it,
    and a change committed meanwhile bumps past ``version``, so nobody reads what is stored here.
    """
    client = _redis()
    if client is None or current_version(client, tenant_id) != version:
        return -1
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return -1
    start_date, end_date = popular_range(tenant)
    ttl = current_app.config.get("AVAILABILITY_CACHE_SECONDS", 300)
    services = list(db.session.scalars(sa.select(Service).where(Service.active.is_(True))
                                       .order_by(Service.position, Service.name)))
    staff_of = {service.id: performers(service.id) for service in services}
    everyone = {sid: None for durations in staff_of.values() for sid in durations}
    tz = zone(tenant.timezone)
    since = datetime.combine(start_date, datetime.min.time(), tzinfo=tz).astimezone(UTC) - timedelta(days=1)
    until = datetime.combine(end_date, datetime.min.time(), tzinfo=tz).astimezone(UTC) + timedelta(days=2)
    loaded = {uuid.UUID(plan.staff_id): plan for plan in load_plans(everyone, since, until, tenant_id=tenant.id)}
    count = 0
    for service in services:  # the business's first services first, each stored as soon as it is computed
        staff_durations = staff_of[service.id]
        if not staff_durations:
            continue
        rows = _computed(tenant, service, staff_durations, start_date, end_date, loaded=loaded)
        parts = _cache_parts(tenant, service, None, start_date, end_date)
        merged = merge_rows_any_staff(rows, [str(sid) for sid in staff_durations])
        pipe = client.pipeline(transaction=False)
        pipe.set(entry_key(tenant.id, version, ("us", *parts)), json.dumps(rows), ex=ttl)
        pipe.set(entry_key(tenant.id, version, ("doc.v2", *parts, tenant.timezone)), pack_rows(merged, tz), ex=ttl)
        pipe.execute()
        count += 1
    return count


def merge_rows_any_staff(rows: list[tuple[int, int, str]], order: Sequence[str]) -> list[tuple[int, int, str]]:
    """"Any staff" on ``(start_us, end_us, staff_id)`` rows sorted by start: one row per start,
    the first staff member in ``order`` (staff ids as text, the business's preference) who is free.
    The same choice as :func:`app.scheduling.availability.merge_any_staff` over slots sorted by
    ``(start, rank)``."""
    rank = {sid: i for i, sid in enumerate(order)}
    chosen: dict[int, tuple[int, tuple[int, int, str]]] = {}
    for row in rows:
        r = rank.get(row[2], 0)
        held = chosen.get(row[0])
        if held is None or r < held[0]:
            chosen[row[0]] = (r, row)
    return [chosen[start][1] for start in sorted(chosen)]


def pack_rows(rows: list[tuple[int, int, str]], tz) -> bytes:
    """``(start_us, end_us, staff_id)`` rows rendered as JSON fragments with times written in
    ``tz``, packed with their start epochs (seconds) for slicing:
    ``count (4 bytes) | starts (float64 each) | fragments joined by 0x1e``."""
    starts = array("d", (s / 1_000_000 for s, _, _ in rows))
    stamp = datetime.fromtimestamp
    fragments = b"\x1e".join(
        ('{"start":"%s","end":"%s","staff_id":"%s"}' % (  # noqa: UP031 - hot path
            stamp(s // 1_000_000, tz).isoformat(), stamp(e // 1_000_000, tz).isoformat(), sid)).encode()
        for s, e, sid in rows)
    return len(rows).to_bytes(4, "big") + starts.tobytes() + fragments


def unpack_rendered(packed: bytes) -> tuple[array, list[bytes]]:
    """Inverse of :func:`pack_rows`: (start epochs, JSON fragments)."""
    count = int.from_bytes(packed[:4], "big")
    starts = array("d")
    starts.frombytes(packed[4:4 + 8 * count])
    body = packed[4 + 8 * count:]
    return starts, (body.split(b"\x1e") if count else [])
