"""The apex feed: published posts from a person's favourite businesses and from businesses
near a point (theirs, or a chosen city's), newest first.

It spans businesses, so it never reads the tenant-owned ``post`` table: it reads the platform
read model ``listed_post`` (kept by outbox events, :mod:`app.community.feed_index`) joined with
``tenant`` (a platform table), under the platform role's explicit ``platform_scope``, with every
filter in the one query: shown (published and not hidden when copied), business not suspended,
and the business among the favourites or within the radius. Distances are great-circle
kilometres (haversine on the businesses' points, degrees WGS 84). A post hidden, unpublished or
deleted disappears as soon as the worker has handled its event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.community.models import CustomerFavourite, ListedPost
from app.extensions import db
from app.geo import GeocoderUnavailable, PlaceNotFound, geocode
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.tenants.urls import tenant_url

#: Default and largest radius of "near", in km.
NEAR_KM = 25
MAX_NEAR_KM = 200
#: Posts on one feed page.
FEED_PAGE = 30
EARTH_KM = 6371.0


@dataclass(frozen=True)
class FeedPost:
    """One post in the feed: its business (name, profile ``url`` and the post's ``post_url``, built from configuration,
    ``logo_key``), plain ``body``, ``photo_keys``, ``published_at`` (tz-aware UTC), distance
    from the point in km (``None`` without a point or a business point) and whether the
    business is a favourite."""

    post_id: uuid.UUID
    business: str
    url: str
    post_url: str
    logo_key: str | None
    body: str
    photo_keys: list[str]
    published_at: datetime
    distance_km: float | None
    favourite: bool


@dataclass(frozen=True)
class Place:
    """A point to look around: ``name`` as shown, ``lat``/``lon`` in degrees."""

    name: str
    lat: float
    lon: float


def find_city(name: str) -> Place | None:
    """The point of a typed place (a city, a postcode; :func:`app.geo.geocode`), or ``None``."""
    try:
        point = geocode(name)
    except (PlaceNotFound, GeocoderUnavailable):
        return None
    return Place(point.label, point.lat, point.lon)


def distance_expr(lat: float, lon: float) -> sa.ColumnElement[float]:
    """SQL great-circle distance in km from (``lat``, ``lon``) to the business's point."""
    rlat, rlon = sa.func.radians(Tenant.latitude), sa.func.radians(Tenant.longitude)
    plat, plon = sa.func.radians(sa.literal(lat)), sa.func.radians(sa.literal(lon))
    a = (sa.func.power(sa.func.sin((rlat - plat) / 2), 2)
         + sa.func.cos(plat) * sa.func.cos(rlat) * sa.func.power(sa.func.sin((rlon - plon) / 2), 2))
    return 2 * EARTH_KM * sa.func.asin(sa.func.least(1.0, sa.func.sqrt(a)))


def feed(user_id: uuid.UUID | None, place: Place | None = None, *, radius_km: float = NEAR_KM,
         limit: int = FEED_PAGE, before: datetime | None = None) -> list[FeedPost]:
    """Published, visible posts from ``user_id``'s favourite businesses and from businesses
    within ``radius_km`` (capped at :data:`MAX_NEAR_KM`) of ``place``, newest first (at most
    ``limit``; ``before`` pages back). Empty with neither a person nor a place. One query, on
    platform tables only."""
    radius = max(1.0, min(float(radius_km), MAX_NEAR_KM))
    fav = (sa.select(CustomerFavourite.business_id).where(CustomerFavourite.user_id == user_id)
           if user_id is not None else None)
    is_fav = ListedPost.business_id.in_(fav) if fav is not None else sa.false()
    dist = distance_expr(place.lat, place.lon) if place is not None else sa.null()
    near = (sa.and_(Tenant.latitude.is_not(None), dist <= radius) if place is not None else sa.false())
    if fav is None and place is None:
        return []
    q = (sa.select(ListedPost, Tenant, dist, is_fav)
         .join(Tenant, Tenant.id == ListedPost.business_id)
         .where(ListedPost.visible.is_(True), Tenant.suspended_at.is_(None), sa.or_(is_fav, near))
         .order_by(ListedPost.published_at.desc(), ListedPost.post_id).limit(limit))
    if before is not None:
        q = q.where(ListedPost.published_at < before)
    with platform_scope("apex feed: published posts of favourite and nearby businesses"):
        rows = db.session.execute(q).all()
        out = [FeedPost(p.post_id, t.name, tenant_url(t), tenant_url(t, f"/posts/{p.post_id}"), t.logo_key, p.body,
                        list(p.photo_keys or []), p.published_at,
                        float(d) if d is not None else None, bool(f)) for p, t, d, f in rows]
    return out
