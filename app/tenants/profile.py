"""A business's settings after signup: name, time zone, currency and public profile
(phone, email, address, description, logo). The marketplace side (category from the taxonomy,
point, service area, languages, amenities, social links) is :mod:`app.tenants.marketplace_profile`.

The tenant in scope only; functions flush and never commit. Changing the time zone moves no
booking: bookings are instants (UTC) and keep them; working hours, being local wall-clock
times, are read in the new zone from then on.
"""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from app.errors import InputError
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.tenants.errors import TenantScopeError
from app.tenants.models import Tenant
from app.tenants.phones import PhoneError, parse_phone
from app.tenants.zones import SUPPORTED_CODES, country_names, country_of_zone, offered_zones

#: Longest description, in characters.
DESCRIPTION_MAX = 1000
#: field -> longest value in characters.
LENGTHS = {"name": 120, "address_line": 200, "postcode": 20, "city": 100, "public_email": 254}


class ProfileError(InputError, ValueError):
    """A business setting that cannot be saved; ``field`` names it, ``message`` is user-facing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class BusinessProfileInput:
    """New settings of a business. ``timezone`` is an IANA name, ``currency`` ISO 4217,
    ``country`` ISO 3166-1 alpha-2 (or empty), ``phone`` as typed (read in ``country``) or
    empty; texts are single-line except ``description`` (plain text)."""

    name: str
    timezone: str
    currency: str
    phone: str = ""
    public_email: str = ""
    address_line: str = ""
    postcode: str = ""
    city: str = ""
    country: str = ""
    description: str = ""


@dataclass(frozen=True)
class ProfileChange:
    """What :func:`update_business_profile` changed: ``timezone_changed`` (the old zone in
    ``old_timezone``) and ``currency_changed``."""

    timezone_changed: bool
    old_timezone: str
    currency_changed: bool


def _clean(data: BusinessProfileInput, tenant: Tenant) -> dict[str, str]:
    values = {name: (getattr(data, name) or "").strip() for name in BusinessProfileInput.__dataclass_fields__}
    values["description"] = (data.description or "").replace("\r\n", "\n").strip()
    values["country"] = values["country"].upper()
    if not values["name"]:
        raise ProfileError("name", "Enter the name of your business.")
    for name, limit in LENGTHS.items():
        if len(values[name]) > limit:
            raise ProfileError(name, f"Use at most {limit} characters.")
    if len(values["description"]) > DESCRIPTION_MAX:
        raise ProfileError("description", f"Use at most {DESCRIPTION_MAX} characters "
                                          f"(this is {len(values['description'])}).")
    if values["timezone"] not in offered_zones() and values["timezone"] != tenant.timezone:
        raise ProfileError("timezone", "Choose a time zone from the list.")
    if values["currency"] not in SUPPORTED_CODES and values["currency"] != tenant.currency:
        raise ProfileError("currency", "Choose one of the listed currencies.")
    if values["country"] and values["country"] not in country_names():
        raise ProfileError("country", "Choose a country from the list.")
    values["country"] = values["country"] or country_of_zone(values["timezone"]) or ""
    if values["phone"]:
        try:
            values["phone"] = parse_phone(values["phone"], values["country"] or None)
        except PhoneError as exc:
            raise ProfileError("phone", exc.message) from exc
    if values["public_email"]:
        try:
            values["public_email"] = validate_email(values["public_email"],
                                                    check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ProfileError("public_email", "Enter an email address like bookings@example.com.") from exc
    return values


def update_business_profile(tenant: Tenant, data: BusinessProfileInput) -> ProfileChange:
    """Write ``data`` onto the business in scope; flushes.

    The time zone must be one of :func:`app.tenants.zones.offered_zones` and the currency one of
    :data:`app.tenants.zones.SUPPORTED_CODES` (or stay as they are); an empty country becomes the
    zone's (``Europe/London`` -> ``GB``); the phone is stored in E.164 (read in that country), the
    email normalised. Callers bump the availability cache when the zone changed.

    Raises:
        TenantScopeError: ``tenant`` is not the tenant in scope.
        ProfileError: a value that cannot be saved (``field`` names it); nothing is written.
    """
    if tenant.id != require_tenant_id():
        raise TenantScopeError("settings of another tenant")
    values = _clean(data, tenant)
    change = ProfileChange(timezone_changed=values["timezone"] != tenant.timezone, old_timezone=tenant.timezone,
                           currency_changed=values["currency"] != tenant.currency)
    for name, value in values.items():
        setattr(tenant, name, value)
    db.session.flush()
    return change


def set_logo(tenant: Tenant, key: str | None) -> None:
    """Point the business's logo at storage key ``key`` (``None`` removes it); flushes.

    Raises:
        TenantScopeError: ``tenant`` is not the tenant in scope.
    """
    if tenant.id != require_tenant_id():
        raise TenantScopeError("logo of another tenant")
    tenant.logo_key = key
    db.session.flush()


def set_cover(tenant: Tenant, key: str | None) -> None:
    """Point the business's cover photo at storage key ``key`` (``None`` removes it); flushes.

    Raises:
        TenantScopeError: ``tenant`` is not the tenant in scope.
    """
    if tenant.id != require_tenant_id():
        raise TenantScopeError("cover of another tenant")
    tenant.cover_key = key
    db.session.flush()
