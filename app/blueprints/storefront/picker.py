"""The storefront's booking steps, shared by its pages: view models, parsing the customer's
input (times, days, zones), loading a service and a staff choice, and the slot picker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, g, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.blueprints.storefront.dates import (
    month_range,
    relative_day,
    short_relative_day,
    slot_time,
    slot_when,
    weekday_short,
)
from app.booking.errors import SlotUnavailable
from app.booking.items import MAX_ITEMS
from app.booking.refusals import SlotRefusal, refusal_text, slot_refusal
from app.booking.service import next_free_starts
from app.catalog.models import Service, StaffMember
from app.checkout.booking import quote
from app.extensions import db
from app.scheduling.availability import Slot
from app.scheduling.service import chain_performers, find_slots, performers
from app.tenants.models import Tenant
from app.timeutil import all_zones, day_in_range, utcnow, zone
from app.web import get_or_404, parse_uuid, render_page

#: Days shown in the slot picker's strip.
STRIP_DAYS = 14
#: The staff choice "anyone free".
ANY = "any"


# --------------------------------------------------------------------------- view models


@dataclass(frozen=True)
class SlotView:
    """A bookable start shown to the customer: ``start`` (UTC), ``label`` (``"09:30"`` local), ``url``."""

    start: datetime
    label: str
    value: str
    url: str = ""


@dataclass
class DayView:
    """One day of the strip in the customer's zone with its free slots."""

    day: date
    url: str
    slots: list[SlotView] = field(default_factory=list)
    selectable: bool = True
    #: The abbreviated weekday in the reader's language (``"Tue"``, ``"tirs."``).
    weekday: str = ""
    #: The day spelled out, "Today, …" / "Tomorrow, …" when it is (the slot list's heading).
    heading: str = ""
    #: ``"today"``, ``"tomorrow"`` or the short date ("Next available: …").
    short: str = ""


@dataclass(frozen=True)
class StaffChoice:
    """A staff option in the picker: ``value`` is ``"any"`` or the staff id."""

    value: str
    name: str
    url: str
    active: bool


def rfc3339(dt: datetime) -> str:
    """``dt`` as an RFC 3339 UTC string with seconds and ``Z`` (``2026-05-04T07:00:00Z``)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_start(raw: str | None) -> datetime | None:
    """An RFC 3339 instant with offset as tz-aware UTC, or ``None`` when missing, malformed or outside
    years 2000–2100 (:func:`app.timeutil.day_in_range`)."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        return None
    return value if day_in_range(value) else None


def parse_day(raw: str | None) -> tuple[date | None, str | None]:
    """``(date, None)`` for ``YYYY-MM-DD``, ``(None, None)`` when absent, ``(None, message)`` when malformed."""
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw.strip()), None
    except ValueError:
        return None, _("“%(value)s” is not a date. Pick a day below.", value=raw[:40])


def customer_zone(tenant: Tenant, raw: str | None) -> tuple[str, str | None]:
    """The customer's IANA zone from ``raw`` and an error message, falling back to the business's zone."""
    if not raw:
        return tenant.timezone, None
    try:
        zone(raw)
    except ValueError:
        return tenant.timezone, _("We don't know the time zone “%(zone)s”. Times are shown in the "
                                  "business's zone, %(business_zone)s.", zone=raw[:64], business_zone=tenant.timezone)
    return raw, None


def period_of(local: datetime) -> str:
    """``Morning`` / ``Afternoon`` / ``Evening`` of a local time, in the reader's language."""
    if local.hour < 12:
        return _("Morning")
    return _("Afternoon") if local.hour < 17 else _("Evening")


# --------------------------------------------------------------------------- loading helpers


def get_service_or_404(service_id: str) -> Service:
    """The active service ``service_id`` of the current tenant; 404 for unknown, inactive or foreign ids."""
    service = get_or_404(Service, service_id)
    if not service.active:
        abort(404)
    return service


def also_or_404(raw: Sequence[str]) -> list[Service]:
    """The services added after the first ("Add another service": repeated ``also`` values, in
    order) as active services of the current tenant; 404 for an unknown, inactive or foreign
    id, or more than :data:`~app.booking.items.MAX_ITEMS` services in all."""
    if len(raw) >= MAX_ITEMS:
        abort(404)
    return [get_service_or_404(value) for value in raw]


def chain_performer_ids(service: Service, also: Sequence[Service] = ()) -> list:
    """Ids of the active staff performing ``service`` and every service of ``also``, in order."""
    return list(chain_performers([service, *also]) if also else performers(service.id))


def staff_choice_or_404(service: Service, raw: str | None, also: Sequence[Service] = ()) -> StaffMember | None:
    """``None`` for "anyone" (``"any"`` or absent), else the performer (of every service) with id
    ``raw``; 404 otherwise."""
    if not raw or raw == ANY:
        return None
    key = parse_uuid(raw)
    if key is None or key not in chain_performer_ids(service, also):
        abort(404)
    return db.session.scalar(sa.select(StaffMember).where(StaffMember.id == key))


def service_performers(service: Service, also: Sequence[Service] = ()) -> list[StaffMember]:
    """Active staff performing ``service`` (and every service of ``also``) in display order."""
    ids = chain_performer_ids(service, also)
    if not ids:
        return []
    members = {m.id: m for m in db.session.scalars(sa.select(StaffMember).where(StaffMember.id.in_(ids)))}
    return [members[i] for i in ids if i in members]


def unavailable_reason(tenant: Tenant, service: Service, staff: StaffMember | None,
                       start: datetime, also: Sequence[Service] = ()) -> SlotUnavailable | None:
    """``None`` when ``start`` (UTC) is bookable now, else the :class:`SlotUnavailable` to show
    (read-only): the domain's reason (:func:`app.booking.refusals.slot_refusal`) in words, with
    the next free starts."""
    now = utcnow()
    staff_id = staff.id if staff else None
    reason = slot_refusal(tenant, service, staff_id, start, now, also=also)
    if reason is None:
        return None
    after = start if reason in (SlotRefusal.TAKEN, SlotRefusal.CLOSED) else now
    return refusal(reason, next_free_starts(tenant, service, staff_id, after, also=also))


def refusal(reason: SlotRefusal, alternatives: list[datetime]) -> SlotUnavailable:
    """The :class:`SlotUnavailable` shown for ``reason`` at the current business, its words from
    :func:`refusal_text`, with ``alternatives`` (UTC starts) offered instead."""
    tenant = g.tenant
    return SlotUnavailable(refusal_text(reason, lead_minutes=tenant.lead_time_minutes, horizon_days=tenant.horizon_days),
                           alternatives)


# --------------------------------------------------------------------------- the slot picker


def build_picker(tenant: Tenant, service: Service, staff: StaffMember | None, tz_name: str,
                 chosen: date | None, *, page_url: Callable[..., str], slot_url: Callable[[datetime], str] | None,
                 staff_choices: bool = True, also: Sequence[Service] = ()) -> dict[str, Any]:
    """Template context for the slot picker (of ``service`` then the services ``also``, back to
    back: a slot is the whole chain's span).

    ``page_url(day=None, staff=None, tz=None)`` builds the picker's own URL and
    ``slot_url(start)`` a slot's link (``None``: slots are POST buttons). Days are the
    customer's local dates; a slot belongs to the day of its local start.
    """
    ctz = zone(tz_name)
    btz = zone(tenant.timezone)
    now = utcnow()
    today = now.astimezone(ctz).date()
    last_day = (now + timedelta(days=tenant.horizon_days)).astimezone(ctz).date()
    date_error = None
    if chosen is not None and chosen < today:
        date_error = _("That day has passed. Here are the days you can book.")
        chosen = None
    elif chosen is not None and chosen > last_day:
        date_error = _("Bookings open at most %(days)d days ahead. Pick an earlier day.", days=tenant.horizon_days)
        chosen = None
    offset = ((chosen - today).days // STRIP_DAYS) * STRIP_DAYS if chosen else 0
    strip_start = today + timedelta(days=offset)
    strip_end = strip_start + timedelta(days=STRIP_DAYS - 1)
    # Business dates covering the customer's local days [strip_start, strip_end].
    first_instant = datetime.combine(strip_start, datetime.min.time(), tzinfo=ctz)
    last_instant = datetime.combine(strip_end + timedelta(days=1), datetime.min.time(), tzinfo=ctz)
    staff_id = staff.id if staff else None
    slots: list[Slot] = find_slots(
        tenant, service, staff_id=staff_id, start_date=first_instant.astimezone(btz).date(),
        end_date=(last_instant - timedelta(seconds=1)).astimezone(btz).date(), any_staff_merge=True, also=also)
    days = []
    for i in range(STRIP_DAYS):
        day = strip_start + timedelta(days=i)
        days.append(DayView(day=day, url=page_url(day=day), weekday=weekday_short(day),
                            heading=relative_day(day, today, tz_name), short=short_relative_day(day, today, tz_name)))
    by_day = {d.day: d for d in days}
    for s in slots:
        local = s.start.astimezone(ctz)
        day_view = by_day.get(local.date())
        if day_view is not None:
            day_view.slots.append(SlotView(start=s.start, label=slot_time(s.start, tz_name), value=rfc3339(s.start),
                                           url=slot_url(s.start) if slot_url else ""))
    for d in days:
        d.selectable = d.day <= last_day
    if chosen is None:
        chosen = next((d.day for d in days if d.slots), strip_start)
    selected = by_day[chosen]
    groups: dict[str, list[SlotView]] = {}
    for sv in selected.slots:
        groups.setdefault(period_of(sv.start.astimezone(ctz)), []).append(sv)
    next_free = next((d for d in days if d.day > chosen and d.slots), None)
    choices: list[StaffChoice] = []
    if staff_choices:
        choices.append(StaffChoice(ANY, _("Anyone"), page_url(day=chosen, staff=ANY), staff is None))
        for member in service_performers(service, also):
            choices.append(StaffChoice(str(member.id), member.name, page_url(day=chosen, staff=str(member.id)),
                                       staff is not None and staff.id == member.id))
    return {
        "days": days, "selected": selected, "groups": groups, "next_free": next_free,
        "prev_url": page_url(day=strip_start - timedelta(days=STRIP_DAYS)) if strip_start > today else None,
        "next_url": page_url(day=strip_end + timedelta(days=1)) if strip_end < last_day else None,
        "date_error": date_error, "staff_choices": choices, "zones": all_zones(),
        "customer_tz": tz_name, "business_tz": tenant.timezone, "post_slots": slot_url is None,
        "month_label": month_range(strip_start, strip_end),
    }


def booking_urls(service: Service, staff: StaffMember | None,
                  tz_name: str, also: Sequence[Service] = ()) -> tuple[Callable[..., str], Callable[[datetime], str]]:
    """``(page_url, slot_url)`` of the booking steps for this choice (the added services kept
    as repeated ``also`` parameters)."""
    staff_value = str(staff.id) if staff else ANY
    also_values = [str(s.id) for s in also]

    def page_url(day: date | None = None, staff: str | None = None, tz: str | None = None) -> str:
        args: dict[str, Any] = {"staff": staff or staff_value, "tz": tz or tz_name}
        if also_values:
            args["also"] = also_values
        if day is not None:
            args["date"] = day.isoformat()
        return url_for("storefront.slots", service_id=service.id, **args)

    def slot_url(start: datetime) -> str:
        return url_for("storefront.details", service_id=service.id, staff=staff_value, start=rfc3339(start),
                       tz=tz_name, **({"also": also_values} if also_values else {}))

    return page_url, slot_url


def render_slots(service: Service, staff: StaffMember | None, tz_name: str, *, chosen: date | None = None,
                  tz_error: str | None = None, date_error: str | None = None, slot_error: SlotUnavailable | None = None,
                  needs_tz: bool = False, status: int = 200, also: Sequence[Service] = ()) -> Response:
    """The slot step (block ``picker`` for HTMX) of ``service`` (then ``also``) with ``staff``."""
    tenant = g.tenant
    page_url, slot_url = booking_urls(service, staff, tz_name, also)
    picker = build_picker(tenant, service, staff, tz_name, chosen, page_url=page_url, slot_url=slot_url, also=also)
    if date_error:
        picker["date_error"] = date_error
    alternatives = []
    if slot_error is not None:
        alternatives = [SlotView(start=a, label=slot_when(a, tz_name), value=rfc3339(a),
                                 url=slot_url(a)) for a in slot_error.alternatives]
    offer = quote(service, staff, also)
    status = 422 if (status == 200 and (tz_error or picker["date_error"])) else status
    return render_page("storefront/slots.html", block="picker", status=status, tenant=tenant, service=service,
                       staff=staff, staff_value=str(staff.id) if staff else ANY, tz_error=tz_error,
                       slot_error=slot_error, alternatives=alternatives, needs_tz=needs_tz,
                       picker_action=url_for("storefront.slots", service_id=service.id), price=offer.price,
                       price_varies=offer.varies, duration=offer.duration, also=list(also),
                       chain=[service, *also], **picker)
