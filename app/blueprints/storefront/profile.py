"""The business's public profile on its storefront home (``/`` on the tenant host): cover,
opening hours, place on the map, languages, amenities, social links, the photo gallery, and
what search engines and link previews read (schema.org ``LocalBusiness`` JSON-LD, OpenGraph
and Twitter card tags, the canonical URL built from configuration, never from the Host).

:func:`profile_context` gives the storefront home's template what the profile partials
(``storefront/_profile_*.html``) show. The JSON-LD's ``aggregateRating`` comes from a template
variable ``rating`` (``average``, ``count``) when the reviews part provides one with a count
above zero (:func:`ld_json`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from app.blueprints.storefront import bp
from app.blueprints.storefront.dates import clock, weekday_names
from app.catalog.models import Service
from app.catalog.opening_hours import OpeningDay, opening_hours
from app.formatting import format_money
from app.marketplace.category_names import category_name
from app.storage.urls import url_for_key
from app.tenants.models import Tenant
from app.tenants.photos import gallery
from app.tenants.urls import tenant_url
from app.tenants.vocabulary import SOCIAL_NETWORKS, amenity_labels, language_names
from app.timeutil import utcnow, zone

#: Longest description in link previews and the meta description, characters.
SUMMARY_MAX = 200


def absolute_media_url(tenant: Tenant, key: str) -> str:
    """The absolute URL of public file ``key`` (on the CDN when configured, else on the business's host)."""
    url = url_for_key(key)
    return url if url.startswith(("http://", "https://")) else tenant_url(tenant, url)


def summary(tenant: Tenant) -> str:
    """One line about the business for previews: the start of its description, or its category and city."""
    text = " ".join((tenant.description or "").split())
    if not text:
        what = category_name(tenant.category_slug, tenant.category) or _("Book online")
        text = _("%(what)s in %(city)s", what=what, city=tenant.city) if tenant.city else what
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rsplit(" ", 1)[0] + "…"


def price_range(services: list[Service]) -> str:
    """``"DKK 199.00–1,499.00"``-style range of the services' prices (one currency), or empty."""
    prices = sorted(s.price_amount for s in services if s.price_amount is not None)
    if not prices:
        return ""
    low, high = format_money(prices[0], services[0].currency), format_money(prices[-1], services[0].currency)
    return low if low == high else f"{low}–{high}"


def local_business(tenant: Tenant, hours: list[OpeningDay], services: list[Service],
                   images: list[str]) -> dict[str, Any]:
    """The schema.org ``LocalBusiness`` object of the business (without ``aggregateRating``)."""
    url = tenant_url(tenant, "/")
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "LocalBusiness", "@id": url + "#business",
                            "name": tenant.name, "url": url}
    if tenant.description:
        data["description"] = tenant.description
    if images:
        data["image"] = images
    if tenant.phone:
        data["telephone"] = tenant.phone
    if tenant.public_email:
        data["email"] = tenant.public_email
    if tenant.address_line or tenant.city:
        address = {"@type": "PostalAddress", "streetAddress": tenant.address_line, "postalCode": tenant.postcode,
                   "addressLocality": tenant.city, "addressCountry": tenant.country}
        data["address"] = {k: v for k, v in address.items() if v}
    if tenant.latitude is not None:
        data["geo"] = {"@type": "GeoCoordinates", "latitude": tenant.latitude, "longitude": tenant.longitude}
    specs = [{"@type": "OpeningHoursSpecification", "dayOfWeek": f"https://schema.org/{day.name}",
              "opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")}
             for day in hours for opens, closes in day.ranges]
    if specs:
        data["openingHoursSpecification"] = specs
    prices = price_range(services)
    if prices:
        data["priceRange"] = prices
    if tenant.social_links:
        data["sameAs"] = list(tenant.social_links.values())
    return data


@bp.app_template_global("ld_json")
def ld_json(data: dict[str, Any], rating: Any = None) -> Markup:
    """``data`` as a ``<script type="application/ld+json">`` element, with ``aggregateRating``
    added when ``rating`` (an object or mapping with ``average`` and ``count``) has a count above
    zero; ``<``, ``>`` and ``&`` are escaped so no text can close the script."""
    data = dict(data)
    average = getattr(rating, "average", None) if not isinstance(rating, dict) else rating.get("average")
    count = getattr(rating, "count", None) if not isinstance(rating, dict) else rating.get("count")
    if count and average is not None:
        data["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": round(float(average), 2),
                                   "reviewCount": int(count), "bestRating": 5, "worstRating": 1}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/ld+json">{text}</script>')


def profile_context(tenant: Tenant, services: list[Service], now: datetime | None = None) -> dict[str, Any]:
    """What the profile partials show of ``tenant`` (in scope), with its ``services`` (for the price range)."""
    hours = opening_hours()
    photos = gallery()
    images = [absolute_media_url(tenant, k) for k in (tenant.cover_key, tenant.logo_key) if k]
    images += [absolute_media_url(tenant, p.key) for p in photos[:3]]
    local_now = (now or utcnow()).astimezone(zone(tenant.timezone))
    social = [(network, SOCIAL_NETWORKS[network][0], url) for network, url in (tenant.social_links or {}).items()
              if network in SOCIAL_NETWORKS]
    return {
        "profile_hours": hours if any(not d.closed for d in hours) else [],
        "profile_today": local_now.weekday(),
        "profile_day_names": weekday_names(),
        "profile_clock": clock,
        "profile_languages": language_names(tenant.languages or []),
        "profile_amenities": amenity_labels(tenant.amenities or []),
        "profile_social": social,
        "profile_photos": photos,
        "profile_canonical": tenant_url(tenant, "/"),
        "profile_summary": summary(tenant),
        "profile_image": images[0] if images else "",
        "profile_ld": local_business(tenant, hours, services, images),
        "map_tiles": current_app.config.get("MAP_TILE_URL") or "",
        "map_attribution": current_app.config.get("MAP_ATTRIBUTION") or "",
    }
