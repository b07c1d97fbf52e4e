"""The businesses the platform lists publicly (the apex's sitemap): every business that is not
suspended, oldest first. ``tenant`` is a platform table, so no tenant scope is needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.tenants.models import Tenant

LISTED = Tenant.suspended_at.is_(None)


@dataclass(frozen=True)
class ListedBusiness:
    """A listed business: its ``slug`` and when its public profile last changed (``lastmod``, UTC)."""

    slug: str
    lastmod: datetime


def listed_count() -> int:
    """How many businesses are listed."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Tenant).where(LISTED)) or 0


def listed_businesses(offset: int, limit: int) -> list[ListedBusiness]:
    """Listed businesses ``offset`` … ``offset + limit - 1`` in a stable order (creation, then id)."""
    rows = db.session.execute(
        sa.select(Tenant.slug, sa.func.coalesce(Tenant.profile_updated_at, Tenant.created_at))
        .where(LISTED).order_by(Tenant.created_at, Tenant.id).offset(offset).limit(limit)).all()
    return [ListedBusiness(slug, lastmod) for slug, lastmod in rows]


def latest_change(offset: int, limit: int) -> datetime | None:
    """The newest ``lastmod`` among :func:`listed_businesses` (``offset``, ``limit``), or ``None``
    (one aggregate query; the rows are not loaded)."""
    page = (sa.select(sa.func.coalesce(Tenant.profile_updated_at, Tenant.created_at).label("lastmod"))
            .where(LISTED).order_by(Tenant.created_at, Tenant.id).offset(offset).limit(limit).subquery())
    return db.session.scalar(sa.select(sa.func.max(page.c.lastmod)))
