"""``flask seed-demo``'s marketplace: sixty businesses over Copenhagen, London and New York that
look like a real marketplace (categories, points, prices, plans, pictures, calendars)."""

from __future__ import annotations

import io
import math
from collections import Counter

import pytest
import sqlalchemy as sa
from PIL import Image

from app.billing.models import BillingSubscription
from app.booking.models import Booking
from app.catalog.models import Service
from app.cli import DEMO_PASSWORD, seed_marketplace_demo
from app.community.models import Post
from app.demo_marketplace import CITIES, marketplace_specs
from app.extensions import db
from app.identity.service import authenticate
from app.reviews.queries import rating_summary
from app.storage.local import default_storage
from app.tenants.context import tenant_scope
from app.tenants.models import MarketplaceCategory, Tenant

pytestmark = pytest.mark.integration


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def test_the_demo_marketplace_fills_three_cities_once(ctx):
    created = seed_marketplace_demo()
    db.session.commit()
    assert "60 marketplace businesses" in created
    slugs = [s.slug for s in marketplace_specs()]
    assert len(set(slugs)) == 60
    tenants = db.session.scalars(sa.select(Tenant).where(Tenant.slug.in_(slugs))).all()
    assert len(tenants) == 60
    taxonomy = set(db.session.scalars(sa.select(MarketplaceCategory.slug)))
    assert {t.category_slug for t in tenants} <= taxonomy and len({t.category_slug for t in tenants}) >= 8
    for city in CITIES:
        here = [t for t in tenants if t.city == city.name]
        assert len(here) == 20 and {t.currency for t in here} == {city.currency}
        _, _, lat, lon = city.areas[0]
        assert all(_km(lat, lon, t.latitude, t.longitude) < 20 for t in here)
    tenant = tenants[0]
    assert tenant.address and tenant.phone and tenant.description and tenant.languages and tenant.amenities
    with Image.open(io.BytesIO(default_storage().get(tenant.logo_key))) as logo:
        assert logo.size == (256, 256)
    with Image.open(io.BytesIO(default_storage().get(tenant.cover_key))) as cover:
        assert cover.size == (1200, 400)
    plans, reviewed, posted = Counter(), 0, 0
    for t in tenants:
        with tenant_scope(t.id):
            plans[db.session.scalar(sa.select(BillingSubscription.plan)) or "free"] += 1
            services = db.session.scalars(sa.select(Service)).all()
            assert len(services) >= 3 and all(s.price_amount >= 0 and s.currency == t.currency for s in services)
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
                Booking.status == "completed")) > 0
            summary = rating_summary()
            reviewed += summary.count > 0
            posted += db.session.scalar(sa.select(sa.func.count()).select_from(Post)) > 0
    assert set(plans) == {"free", "pro", "premium"}
    assert reviewed >= 50 and 30 <= posted < 60
    assert authenticate(f"owner@{slugs[0]}.test", DEMO_PASSWORD) is not None
    # A second run adds nothing.
    assert seed_marketplace_demo() == []
