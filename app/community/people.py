"""A person's conveniences across businesses: favourites and recently viewed businesses.

Rows are platform-level, keyed by the person's account (``user_id``) and the business's id;
on a business's host the tenant database role sees only the logged-in person's rows (policy
on ``app.user_id``), so toggling a favourite or noting a view there works as that person and
nobody else. The lists (apex) join the businesses' public names; suspended businesses are left
out. Functions flush, never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.chat.models import Inquiry
from app.community.models import CustomerFavourite, RecentlyViewed
from app.extensions import db
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.tenants.urls import tenant_url
from app.timeutil import utcnow

#: Businesses kept in a person's "recently viewed".
RECENT_LIMIT = 10


@dataclass(frozen=True)
class BusinessCard:
    """A business as the account pages list it: ``url`` is its profile (absolute, from
    configuration), ``at`` when it was favourited or last viewed (tz-aware UTC)."""

    business_id: uuid.UUID
    slug: str
    name: str
    city: str
    logo_key: str | None
    url: str
    at: datetime


def is_favourite(user_id: uuid.UUID, business_id: uuid.UUID) -> bool:
    """True when the person marked the business as a favourite."""
    return db.session.get(CustomerFavourite, (user_id, business_id)) is not None


def set_favourite(user_id: uuid.UUID, business_id: uuid.UUID, favourite: bool) -> bool:
    """Mark (or unmark) a favourite; idempotent. Returns the new state. Flushes."""
    if favourite:
        db.session.execute(pg_insert(CustomerFavourite).values(
            user_id=user_id, business_id=business_id, created_at=utcnow()).on_conflict_do_nothing())
    else:
        db.session.execute(sa.delete(CustomerFavourite).where(
            CustomerFavourite.user_id == user_id, CustomerFavourite.business_id == business_id)
            .execution_options(synchronize_session=False))
    db.session.flush()
    return favourite


def favourite_ids(user_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of the person's favourite businesses."""
    return list(db.session.scalars(sa.select(CustomerFavourite.business_id)
                                   .where(CustomerFavourite.user_id == user_id)))


def note_view(user_id: uuid.UUID, business_id: uuid.UUID) -> None:
    """Record that the person looked at the business now, keeping their latest
    :data:`RECENT_LIMIT` businesses. Flushes."""
    now = utcnow()
    db.session.execute(pg_insert(RecentlyViewed).values(user_id=user_id, business_id=business_id, viewed_at=now)
                       .on_conflict_do_update(index_elements=["user_id", "business_id"], set_={"viewed_at": now}))
    keep = (sa.select(RecentlyViewed.business_id).where(RecentlyViewed.user_id == user_id)
            .order_by(RecentlyViewed.viewed_at.desc()).limit(RECENT_LIMIT))
    db.session.execute(sa.delete(RecentlyViewed).where(
        RecentlyViewed.user_id == user_id, RecentlyViewed.business_id.not_in(keep))
        .execution_options(synchronize_session=False))
    db.session.flush()


def _cards(rows: list) -> list[BusinessCard]:
    return [BusinessCard(t.id, t.slug, t.name, t.city or "", t.logo_key, tenant_url(t), at) for t, at in rows]


def favourites(user_id: uuid.UUID, limit: int = 200) -> list[BusinessCard]:
    """The person's favourite businesses, latest marked first (apex: reads the businesses' names)."""
    rows = db.session.execute(
        sa.select(Tenant, CustomerFavourite.created_at).join(CustomerFavourite, CustomerFavourite.business_id == Tenant.id)
        .where(CustomerFavourite.user_id == user_id, Tenant.suspended_at.is_(None))
        .order_by(CustomerFavourite.created_at.desc()).limit(limit)).all()
    return _cards(rows)


def recently_viewed(user_id: uuid.UUID, limit: int = RECENT_LIMIT) -> list[BusinessCard]:
    """The businesses the person looked at last, latest first (at most :data:`RECENT_LIMIT`)."""
    rows = db.session.execute(
        sa.select(Tenant, RecentlyViewed.viewed_at).join(RecentlyViewed, RecentlyViewed.business_id == Tenant.id)
        .where(RecentlyViewed.user_id == user_id, Tenant.suspended_at.is_(None))
        .order_by(RecentlyViewed.viewed_at.desc()).limit(limit)).all()
    return _cards(rows)


def business_by_slug(slug: str) -> Tenant | None:
    """The live (not suspended) business with this slug, or ``None`` (apex)."""
    return db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug, Tenant.suspended_at.is_(None)))


@dataclass(frozen=True)
class MyInquiry:
    """One of a person's questions to a business before booking, for their account's message
    list: the business, the link to the conversation on its host (from configuration) and when
    it was asked (tz-aware UTC)."""

    business: str
    url: str
    asked_at: datetime


def my_inquiries(user_id: uuid.UUID, limit: int = 100) -> list[MyInquiry]:
    """The person's confirmed inquiries at live businesses, newest first (apex; spans
    businesses, so read under an explicit ``platform_scope`` filtered by the person)."""
    with platform_scope("a customer's own inquiries across businesses"):
        rows = db.session.execute(
            sa.select(Inquiry.id, Inquiry.created_at, Tenant).join(Tenant, Tenant.id == Inquiry.tenant_id)
            .where(Inquiry.user_id == user_id, Inquiry.confirmed_at.is_not(None), Tenant.suspended_at.is_(None))
            .order_by(Inquiry.created_at.desc()).limit(limit)).all()
        return [MyInquiry(t.name, tenant_url(t, f"/inquiries/{iid}"), at) for iid, at, t in rows]
