"""The marketplace side of a business's profile: category (from the taxonomy), where it is
(its point), where it works (service area), languages, amenities and social links.

The tenant in scope only; functions flush and never commit. The point comes from the owner
(the settings page's map or latitude/longitude fields) or from geocoding the address, which the
caller does (:mod:`app.geo` sits above this package).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.errors import InputError
from app.extensions import db
from app.tenants.context import require_tenant_id
from app.tenants.errors import TenantScopeError
from app.tenants.models import Tenant
from app.tenants.taxonomy import category_by_slug
from app.tenants.vocabulary import AMENITIES, LANGUAGES, SOCIAL_NETWORKS
from app.timeutil import utcnow

#: Most postcodes a business may list as its service area.
MAX_POSTCODES = 100
#: Service radius bounds, km.
RADIUS_KM = (1, 200)
#: Longest social link, characters.
LINK_MAX = 300
POSTCODE_RE = re.compile(r"^[A-Z0-9]{2,10}$")


class MarketplaceProfileError(InputError, ValueError):
    """A marketplace profile value that cannot be saved; ``field`` names it, ``message`` is user-facing."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


@dataclass(frozen=True)
class MarketplaceProfileInput:
    """New marketplace settings. ``category`` is a taxonomy slug or empty; ``service_area`` is
    ``premises`` (customers come to the business), ``radius`` (``service_radius_km``, km) or
    ``postcodes`` (``service_postcodes`` as typed: separated by commas, spaces or lines);
    ``languages`` BCP 47 tags of :data:`LANGUAGES`, ``amenities`` codes of :data:`AMENITIES`,
    ``social_links`` network -> https URL (empty values dropped)."""

    category: str = ""
    service_area: str = "premises"
    service_radius_km: int | None = None
    service_postcodes: str = ""
    languages: list[str] = field(default_factory=list)
    amenities: list[str] = field(default_factory=list)
    social_links: dict[str, str] = field(default_factory=dict)


def _check_tenant(tenant: Tenant) -> None:
    if tenant.id != require_tenant_id():
        raise TenantScopeError("profile of another tenant")


def parse_postcodes(text: str) -> list[str]:
    """The postcodes in ``text`` (separated by commas, semicolons or lines; spaces inside a code
    are dropped, ``sw1a 1aa`` -> ``SW1A1AA``), upper-case, de-duplicated in order.

    Raises:
        MarketplaceProfileError: a code that is not 2-10 letters and digits, or more than
            :data:`MAX_POSTCODES`.
    """
    codes: list[str] = []
    for raw in re.split(r"[,;\n]+", text or ""):
        code = re.sub(r"\s+", "", raw).upper()
        if not code:
            continue
        if not POSTCODE_RE.match(code):
            raise MarketplaceProfileError("service_postcodes", f"“{raw.strip()}” is not a postcode.")
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_POSTCODES:
        raise MarketplaceProfileError("service_postcodes", f"List at most {MAX_POSTCODES} postcodes.")
    return codes


def clean_social_link(network: str, url: str) -> str:
    """``url`` checked as a link to ``network`` (a key of :data:`SOCIAL_NETWORKS`): ``https``
    only, a host (the network's own for instagram, facebook, tiktok), no credentials; returned
    trimmed, or empty for an empty ``url``.

    Raises:
        MarketplaceProfileError: unknown network, or a link that fails those checks.
    """
    url = (url or "").strip()
    if network not in SOCIAL_NETWORKS:
        raise MarketplaceProfileError("social_links", f"Unknown network “{network}”.")
    if not url:
        return ""
    label, hosts = SOCIAL_NETWORKS[network]
    field_name = f"social_{network}"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme != "https" or not host or "." not in host or parts.username \
            or parts.password or len(url) > LINK_MAX or any(c.isspace() for c in url):
        raise MarketplaceProfileError(field_name, "Enter a full link starting with https://.")
    if hosts and host not in hosts:
        raise MarketplaceProfileError(field_name, f"Enter a link to your {label} page ({hosts[0]}/…).")
    return url


def update_marketplace_profile(tenant: Tenant, data: MarketplaceProfileInput) -> None:
    """Write ``data`` onto the business in scope; flushes. The category's name goes to
    ``tenant.category`` with its slug (:mod:`app.tenants.taxonomy`); a retired category may be
    kept by a business that has it, not chosen anew.

    Raises:
        TenantScopeError: ``tenant`` is not the tenant in scope.
        MarketplaceProfileError: a value that cannot be saved (``field`` names it); nothing is written.
    """
    _check_tenant(tenant)
    slug = (data.category or "").strip()
    category = category_by_slug(slug)
    if slug and (category is None or (not category.active and slug != tenant.category_slug)):
        raise MarketplaceProfileError("category", "Choose one of the listed categories.")
    radius, postcodes = None, []
    if data.service_area == "radius":
        if data.service_radius_km is None or not RADIUS_KM[0] <= data.service_radius_km <= RADIUS_KM[1]:
            raise MarketplaceProfileError("service_radius_km", "Enter how far you travel: 1 to 200 km.")
        radius = data.service_radius_km
    elif data.service_area == "postcodes":
        postcodes = parse_postcodes(data.service_postcodes)
        if not postcodes:
            raise MarketplaceProfileError("service_postcodes", "List the postcodes you travel to.")
    elif data.service_area != "premises":
        raise MarketplaceProfileError("service_area", "Choose where you serve customers.")
    unknown = [t for t in data.languages if t not in LANGUAGES]
    if unknown:
        raise MarketplaceProfileError("languages", "Choose languages from the list.")
    if any(code not in AMENITIES for code in data.amenities):
        raise MarketplaceProfileError("amenities", "Choose amenities from the list.")
    links = {}
    for network in SOCIAL_NETWORKS:
        url = clean_social_link(network, data.social_links.get(network, ""))
        if url:
            links[network] = url
    tenant.category_slug = category.slug if category else None
    tenant.category = category.name if category else ""
    tenant.service_radius_km, tenant.service_postcodes = radius, postcodes
    tenant.languages = [t for t in LANGUAGES if t in data.languages]
    tenant.amenities = [c for c in AMENITIES if c in data.amenities]
    tenant.social_links = links
    db.session.flush()


def check_point(latitude: float | None, longitude: float | None) -> tuple[float, float] | None:
    """``(latitude, longitude)`` in WGS 84 degrees when both are given and on Earth, ``None``
    when both are empty.

    Raises:
        MarketplaceProfileError: only one given, not finite, or out of range.
    """
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise MarketplaceProfileError("latitude" if latitude is None else "longitude",
                                      "Enter both latitude and longitude, or neither.")
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise MarketplaceProfileError("latitude", "Latitude is between -90 and 90.")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise MarketplaceProfileError("longitude", "Longitude is between -180 and 180.")
    return round(latitude, 6), round(longitude, 6)


def set_point(tenant: Tenant, point: tuple[float, float] | None) -> None:
    """Place the business at ``point`` (``(lat, lon)`` degrees, from :func:`check_point` or a
    geocoder), or take it off the map with ``None``; flushes.

    Raises:
        TenantScopeError: ``tenant`` is not the tenant in scope.
    """
    _check_tenant(tenant)
    tenant.latitude, tenant.longitude = (round(point[0], 6), round(point[1], 6)) if point else (None, None)
    db.session.flush()


def touch_profile(tenant: Tenant) -> None:
    """Record that the business's public profile changed now (the sitemap's ``lastmod``); flushes.

    Raises:
        TenantScopeError: ``tenant`` is not the tenant in scope.
    """
    _check_tenant(tenant)
    tenant.profile_updated_at = utcnow()
    db.session.flush()
