"""Demo data for dispatch now (``flask seed-demo``): two on-demand businesses in New York — a
mobile car wash and a mobile home cleaner — each with four operators online around Midtown
Manhattan (their positions kept in Redis for :data:`DEMO_POSITION_TTL`, refreshed on every run).

Logins (password: the demo password, README): ``owner@shine.test`` and ``owner@sparkle.test``,
operators ``<name>@shine.test`` / ``<name>@sparkle.test`` (e.g. ``dana@shine.test``).
"""

from __future__ import annotations

import sqlalchemy as sa

from app.dispatch.locations import put_location
from app.dispatch.models import DispatchOperator
from app.dispatch.operators import operator_for, save_profile, set_availability
from app.extensions import db
from app.identity.models import User
from app.identity.service import create_user, find_user
from app.redis_client import get_redis
from app.tenants.context import tenant_scope
from app.tenants.models import Role, Tenant
from app.tenants.service import add_membership, create_tenant
from app.timeutil import utcnow

#: Seconds the demo operators' positions stay live (a day; re-run ``seed-demo`` to refresh).
DEMO_POSITION_TTL = 24 * 3600

#: (slug, name, services, operators as (first name, lat, lon)).
DEMO_ON_DEMAND = (
    ("shine", "Shine Mobile Car Wash", ["car-wash"],
     [("Dana", 40.7614, -73.9776), ("Eli", 40.7527, -73.9772), ("Farah", 40.7681, -73.9819),
      ("Gus", 40.7484, -73.9857)]),
    ("sparkle", "Sparkle Home Cleaning", ["cleaning"],
     [("Hana", 40.7580, -73.9855), ("Ivo", 40.7711, -73.9742), ("Jun", 40.7445, -73.9903),
      ("Kira", 40.7633, -73.9632)]),
)


def _user(email: str, password: str, name: str) -> User:
    user = find_user(email)
    if user is None:
        user = create_user(email, password, name)
        user.email_verified_at = utcnow()
    return user


def seed_dispatch_demo(password: str) -> list[str]:
    """Create the two on-demand demo businesses and their operators when missing, and put every
    operator online at their spot (positions refreshed each run). Idempotent: returns what it
    created (empty when everything was there). Flushes; the caller's unit of work commits."""
    created: list[str] = []
    for slug, name, services, operators in DEMO_ON_DEMAND:
        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
        if tenant is None:
            owner = _user(f"owner@{slug}.test", password, f"{name} owner")
            tenant = create_tenant(name=name, slug=slug, timezone="America/New_York", currency="USD", owner=owner)
            tenant.city, tenant.country, tenant.postcode = "New York", "US", "10019"
            tenant.latitude, tenant.longitude = operators[0][1], operators[0][2]
            created.append(f"{slug} (on demand, {len(operators)} operators)")
        with tenant_scope(tenant.id):
            save_profile(True, services)
            for first, _, _ in operators:
                user = _user(f"{first.lower()}@{slug}.test", password, first)
                add_membership(user, Role.STAFF)
                op = operator_for(user.id, first)
                if not op.online:
                    set_availability(op, True, 2)
            db.session.flush()
            spots = {f"{first.lower()}@{slug}.test": (lat, lon) for first, lat, lon in operators}
            rows = db.session.execute(sa.select(DispatchOperator, User.email).join(
                User, User.id == DispatchOperator.user_id)).all()
            for op, email in rows:
                if email in spots:
                    put_location(get_redis(), op.tenant_id, op.id, services, *spots[email], ttl=DEMO_POSITION_TTL)
    return created
