"""Builders for test data. Each commits and returns plain values (ids), so tests can use
them across app contexts, test clients and live servers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import time

from app.extensions import db

PASSWORD = "correct-horse-battery"


@dataclass
class Business:
    """Ids of a business made by :func:`make_business`."""

    tenant_id: uuid.UUID
    slug: str
    timezone: str
    owner_email: str
    staff_ids: list[uuid.UUID] = field(default_factory=list)
    service_ids: list[uuid.UUID] = field(default_factory=list)

    def host(self, port: int | None = None) -> str:
        """Host header of the business's subdomain."""
        return f"{self.slug}.localhost" + (f":{port}" if port else "")


def make_user(email: str, password: str = PASSWORD, name: str = "Test User", **flags) -> uuid.UUID:
    """Create a committed account; returns its id."""
    from app.identity.service import create_user
    from app.timeutil import utcnow

    user = create_user(email, password, name)
    user.email_verified_at = utcnow()
    for key, value in flags.items():
        setattr(user, key, value)
    db.session.commit()
    return user.id


def make_business(slug: str = "bella", *, timezone: str = "Europe/Copenhagen", currency: str = "DKK",
                  staff: int = 2, hours: dict[int, list[tuple[str, str]]] | None = None,
                  services: list[tuple[str, int, int]] | None = None, buffer_after: int = 0,
                  owner_email: str | None = None, **rules) -> Business:
    """Create a committed business with ``staff`` staff members working ``hours`` (default
    Mon–Sun 09:00–17:00) and ``services`` as (name, minutes, price minor units), each
    performed by every staff member. ``rules`` sets tenant booking rules (lead_time_minutes…).
    """
    from app.catalog.service import create_service, create_staff_member, set_working_hours
    from app.identity.service import create_user, find_user
    from app.tenants.context import tenant_scope
    from app.tenants.service import create_tenant

    owner_email = owner_email or f"owner@{slug}.test"
    owner = find_user(owner_email) or create_user(owner_email, PASSWORD, f"{slug} owner")
    tenant = create_tenant(name=slug.title(), slug=slug, timezone=timezone, currency=currency, owner=owner)
    rules.setdefault("lead_time_minutes", 0)
    for key, value in rules.items():
        setattr(tenant, key, value)
    hours = hours or {d: [("09:00", "17:00")] for d in range(7)}
    services = services or [("Haircut", 60, 50000)]
    biz = Business(tenant.id, slug, timezone, owner_email)
    with tenant_scope(tenant.id):
        for i in range(staff):
            member = create_staff_member(name=f"Staff {i + 1}", position=i)
            set_working_hours(member.id, {d: [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in r]
                                          for d, r in hours.items()})
            biz.staff_ids.append(member.id)
        for name, minutes, price in services:
            svc = create_service(name=name, duration_minutes=minutes, price_amount=price, currency=currency,
                                 staff_ids=biz.staff_ids, buffer_after_minutes=buffer_after)
            biz.service_ids.append(svc.id)
    db.session.commit()
    return biz
