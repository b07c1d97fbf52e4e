"""Listed businesses for marketplace tests: a business from :func:`tests.factories.make_business`
placed on the map, in a category, and indexed into ``marketplace_listing``."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import run_in_tenant
from app.marketplace.indexer import refresh_listing
from app.marketplace.models import MarketplaceListing
from app.marketplace.search import clear_caches
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from tests.factories import Business, make_business

#: Points in London (lat, lon).
SOHO = (51.5136, -0.1365)
CAMDEN = (51.5390, -0.1426)
GREENWICH = (51.4826, 0.0077)
#: Copenhagen, about 950 km from London.
COPENHAGEN = (55.6761, 12.5683)


def listed(slug: str, *, point: tuple[float, float] | None = SOHO, category: str | None = "barber",
           city: str = "London", postcode: str = "W1D 3QZ", name: str | None = None, description: str = "",
           services: list[tuple[str, int, int]] | None = None, currency: str = "GBP",
           timezone: str = "Europe/London", **kwargs) -> Business:
    """Make a committed business with a point and category, and index it; returns its ids."""
    biz = make_business(slug, timezone=timezone, currency=currency, services=services, **kwargs)
    with platform_scope("test: place a business"):
        tenant = db.session.get(Tenant, biz.tenant_id)
        tenant.name = name or slug.replace("-", " ").title()
        tenant.category_slug = category
        tenant.city, tenant.postcode, tenant.country = city, postcode, "GB"
        tenant.description = description
        tenant.latitude, tenant.longitude = point if point else (None, None)
        db.session.commit()
    index(biz)
    return biz


def index(biz: Business) -> None:
    """Rebuild the business's listing as the router's job does (one unit of work in its scope);
    search's per-process word cache starts afresh (it may be a minute behind, by design)."""
    run_in_tenant(str(biz.tenant_id), refresh_listing)
    clear_caches()


def listing(biz: Business) -> MarketplaceListing | None:
    """The business's listing row as stored now (a fresh read)."""
    db.session.rollback()
    return db.session.scalar(sa.select(MarketplaceListing).where(MarketplaceListing.business_id == biz.tenant_id))


def set_listing(biz: Business, **values) -> None:
    """Overwrite listing columns directly (ratings, tiers) for ranking cases; committed."""
    with platform_scope("test: listing values"):
        db.session.execute(sa.update(MarketplaceListing).where(MarketplaceListing.business_id == biz.tenant_id)
                           .values(**values))
        db.session.commit()
