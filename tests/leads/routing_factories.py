"""Rows the routing tests build directly: providers (businesses that take job requests) and
submitted job requests (as part U's wizard leaves them)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from app.extensions import db
from app.leads.models import JobRequest, JobRequestStatus
from app.marketplace.geometry import cube_of
from app.marketplace.models import MarketplaceListing
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from tests.factories import make_business

#: Points around New York used by the tests (lat, lon).
MIDTOWN = (40.7549, -73.9840)
BROOKLYN = (40.6782, -73.9442)
NEWARK = (40.7357, -74.1724)


def make_provider(slug: str, *, category: str = "plumbing", postcode: str = "10001", city: str = "New York",
                  point: tuple[float, float] | None = MIDTOWN, service_postcodes: list[str] | None = None,
                  radius_km: int | None = None, accepts: bool = True, verified: bool = False,
                  rating: tuple[float, int] | None = None, suspended: bool = False,
                  owner_email: str | None = None) -> uuid.UUID:
    """A committed business in ``category`` that takes job requests (``accepts``), with its base
    and service area, and a marketplace listing carrying ``rating`` (average, count) and ``verified``."""
    biz = make_business(slug, timezone="America/New_York", currency="USD", staff=1, owner_email=owner_email)
    with platform_scope("tests: provider"):
        tenant = db.session.get(Tenant, biz.tenant_id)
        tenant.category_slug, tenant.accepts_job_requests = category, accepts
        tenant.postcode, tenant.city, tenant.country = postcode, city, "US"
        tenant.latitude, tenant.longitude = point if point else (None, None)
        tenant.service_postcodes = service_postcodes or []
        tenant.service_radius_km = radius_km
        tenant.suspended_at = utcnow() if suspended else None
        db.session.add(MarketplaceListing(
            business_id=tenant.id, slug=slug, name=tenant.name, category_slug=category, city=city, postcode=postcode,
            country="US", latitude=tenant.latitude, longitude=tenant.longitude,
            earth=cube_of(tenant.latitude, tenant.longitude), timezone="America/New_York",
            rating_average=rating[0] if rating else None, rating_count=rating[1] if rating else 0,
            verified=verified))
        db.session.commit()
    return biz.tenant_id


def make_request(*, category: str = "plumbing", postcode: str = "10001", city: str = "New York",
                 point: tuple[float, float] | None = MIDTOWN, status: str = JobRequestStatus.OPEN,
                 title: str = "Fix a leaking tap", credits_cost: int = 2, submitted_at: datetime | None = None,
                 email: str = "casey@example.com") -> uuid.UUID:
    """A committed job request as the wizard leaves it on submission (``open`` by default)."""
    now = utcnow()
    with platform_scope("tests: job request"):
        job = JobRequest(status=status, category_slug=category, title=title, postcode=postcode, city=city,
                         country="US", latitude=point[0] if point else None, longitude=point[1] if point else None,
                         summary=[{"label": "What leaks?", "text": "Kitchen tap"}], complexity_score=40,
                         complexity_tier=2, credits_cost=credits_cost, contact_name="Casey", contact_email=email,
                         submitted_at=submitted_at or now, created_at=now, updated_at=now)
        db.session.add(job)
        db.session.commit()
        return job.id


def get_request(job_request_id: uuid.UUID) -> JobRequest:
    """The job request, fresh from the database."""
    with platform_scope("tests: read job request"):
        return db.session.scalar(sa.select(JobRequest).where(JobRequest.id == job_request_id)
                                 .execution_options(populate_existing=True))
