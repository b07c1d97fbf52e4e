"""The non-question parts of a job request, checked: where (a postcode inside some opted-in
provider's service area, or a map pin), when (flexible, a date range, urgent) and who (contact).

Each check raises an :class:`~app.errors.InputError` whose ``field`` names the part at fault
(``location.postcode``, ``timing.start``, ``contact.email``, …), so the wizard shows the message
beside its field and the API names it in a 422.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.errors import InputError
from app.extensions import db
from app.geo import GeocodeError, distance_km, geocode
from app.leads.models import TimingKind
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow

#: Longest date range a customer may give, in days.
MAX_RANGE_DAYS = 366
#: How far ahead a date range may start, in days.
MAX_AHEAD_DAYS = 400
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{6,24}$")


class RequestPartInvalid(InputError):
    """A location, timing or contact value that cannot be accepted (``field`` names it)."""


class OutsideServiceArea(RequestPartInvalid):
    """No opted-in, active provider serves the place asked for."""

    field = "location.postcode"


@dataclass(frozen=True)
class Place:
    """Where the job is: ``postcode`` as written (upper-case), ``city``, ``country`` (ISO 3166-1
    alpha-2 or ``""``), the point ``lat``/``lon`` (degrees, or ``None``) and how many opted-in
    providers cover it (``providers``)."""

    postcode: str
    city: str
    country: str
    lat: float | None
    lon: float | None
    providers: int


def postcode_key(postcode: str) -> str:
    """A postcode compared as service areas store it: upper-case, no spaces (``SW1A 1AA`` -> ``SW1A1AA``)."""
    return "".join((postcode or "").split()).upper()


def covers(tenant: Tenant, key: str, city: str, point: tuple[float, float] | None) -> bool:
    """True when ``tenant`` serves postcode ``key`` (see :func:`postcode_key`), city ``city`` or
    ``point``: the postcode is one it lists, equals or starts with its base postcode, equals its
    city, or the point lies within its travel radius of its own point."""
    if key and key in (tenant.service_postcodes or []):
        return True
    base = postcode_key(tenant.postcode)
    if key and base and key.startswith(base):
        return True
    if tenant.city and ((key and key.lower() == tenant.city.replace(" ", "").lower())
                        or (city and city.lower() == tenant.city.lower())):
        return True
    if point and tenant.latitude is not None and tenant.longitude is not None and tenant.service_radius_km:
        return distance_km(point, (tenant.latitude, tenant.longitude)) <= tenant.service_radius_km
    return False


def opted_in_providers() -> list[Tenant]:
    """Businesses that take job requests and are not suspended."""
    with platform_scope("job request: service areas"):
        return list(db.session.scalars(sa.select(Tenant).where(
            Tenant.accepts_job_requests.is_(True), Tenant.suspended_at.is_(None))))


def locate(postcode: str | None, lat: float | None, lon: float | None) -> Place:
    """Check that some opted-in provider serves ``postcode`` or the pin ``lat``/``lon``.

    The postcode is geocoded (:func:`app.geo.geocode`) for the radius test when no pin is given.
    Raises:
        RequestPartInvalid: neither given, a half or out-of-range pin, a postcode too long.
        OutsideServiceArea: nobody covers it ("No provider covers 10001 yet").
    """
    shown = " ".join((postcode or "").split()).upper()
    if len(shown) > 20:
        raise RequestPartInvalid(_("A postcode has at most 20 characters."), "location.postcode")
    if (lat is None) != (lon is None):
        raise RequestPartInvalid(_("Give both latitude and longitude, or neither."), "location.lat")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise RequestPartInvalid(_("This point is not on the map."), "location.lat")
    if not shown and lat is None:
        raise RequestPartInvalid(_("Enter your postcode, or drop a pin on the map."), "location.postcode")
    city = country = ""
    point = (lat, lon) if lat is not None else None
    if shown:
        try:
            found = geocode(shown)
        except GeocodeError:
            found = None
        if found is not None:
            parts = [p.strip() for p in found.label.split(",")]
            city = parts[0] if found.precision != "postcode" else (parts[1] if len(parts) > 2 else "")
            country = parts[-1] if len(parts) > 1 and re.fullmatch(r"[A-Z]{2}", parts[-1]) else ""
            point = point or (found.lat, found.lon)
    key = postcode_key(shown)
    providers = sum(1 for t in opted_in_providers() if covers(t, key, city, point))
    if not providers:
        where = shown or "this spot"
        raise OutsideServiceArea(_("No provider covers %(place)s yet.", place=where), "location.postcode" if shown else "location.lat")
    return Place(shown, city[:100], country, point[0] if point else None, point[1] if point else None, providers)


def check_timing(kind: str, start: date | None, end: date | None, *, today: date | None = None) -> None:
    """Check a timing: ``flexible``, ``urgent``, or a ``range`` from ``start`` to ``end``
    (local dates, today or later, at most :data:`MAX_RANGE_DAYS` long).

    Raises:
        RequestPartInvalid: unknown kind, a range with a date missing, in the past or reversed.
    """
    today = today or utcnow().date()
    if kind not in {k.value for k in TimingKind}:
        raise RequestPartInvalid(_("Choose when: flexible, between two dates, or urgent."), "timing.kind")
    if kind != TimingKind.RANGE:
        return
    if start is None:
        raise RequestPartInvalid(_("Give the first day."), "timing.start")
    if end is None:
        raise RequestPartInvalid(_("Give the last day."), "timing.end")
    if start < today - timedelta(days=1):
        raise RequestPartInvalid(_("The first day has passed."), "timing.start")
    if start > today + timedelta(days=MAX_AHEAD_DAYS):
        raise RequestPartInvalid(_("Choose a first day within a year."), "timing.start")
    if end < start:
        raise RequestPartInvalid(_("The last day is before the first."), "timing.end")
    if (end - start).days > MAX_RANGE_DAYS:
        raise RequestPartInvalid(_("Choose a range of at most a year."), "timing.end")


def check_contact(name: str, email: str, phone: str, *, phone_required: bool = True) -> tuple[str, str, str]:
    """``(name, email, phone)`` cleaned (email lower-cased, spaces collapsed).

    Raises:
        RequestPartInvalid: a blank or over-long name, a name with ``<``, ``>`` or ``@``, an
            email that is not one, a missing or malformed phone number.
    """
    name = " ".join((name or "").split())
    email = (email or "").strip().lower()
    phone = " ".join((phone or "").split())
    if not name:
        raise RequestPartInvalid(_("Enter your name."), "contact.name")
    if len(name) > 120 or any(c in name for c in "<>@"):
        raise RequestPartInvalid(_("Enter your name (at most 120 characters, no < > @)."), "contact.name")
    if len(email) > 254 or not _EMAIL.match(email):
        raise RequestPartInvalid(_("Enter a valid email address."), "contact.email")
    if not phone and phone_required:
        raise RequestPartInvalid(_("Enter a phone number the provider can call."), "contact.phone")
    if phone and not _PHONE.match(phone):
        raise RequestPartInvalid(_("Enter a phone number (digits, spaces and a leading +)."), "contact.phone")
    return name, email, phone
