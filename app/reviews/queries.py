"""Reading reviews: the exact aggregates of a business and its served reviews, newest first.

Every query runs in the business in scope (the tenant guard adds its criteria) and reads only
``visible`` reviews unless it says otherwise, so hidden and removed reviews are never served.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.catalog.models import Service
from app.catalog.translations import localized
from app.extensions import db
from app.reviews.models import DIMENSIONS, Review, ReviewStatus

#: Reviews per page on the public reviews page and the API.
PER_PAGE = 10


@dataclass(frozen=True)
class RatingSummary:
    """Aggregates over a business's visible reviews: ``average`` overall rating (1.0–5.0, ``None``
    when there is no review: never shown as zero), ``count`` of reviews, and per dimension the
    average of the reviews that rated it (``None`` when none did)."""

    average: float | None
    count: int
    dimensions: dict[str, float | None] = field(default_factory=dict)

    def as_payload(self) -> dict[str, object]:
        """``{"average", "count", "dimensions": {...}}`` as JSON-ready primitives."""
        return {"average": self.average, "count": self.count, "dimensions": dict(self.dimensions)}


def _avg(value: object) -> float | None:
    return None if value is None else round(float(value), 4)


def rating_summary() -> RatingSummary:
    """The exact :class:`RatingSummary` of the business in scope, computed by SQL from the visible
    rows (one aggregate over the partial covering index ``review_visible``), so hiding, editing or
    removing a review can never make it drift.

    Raises:
        app.tenants.guard.TenantScopeError: no business in scope.
    """
    cols = [sa.func.avg(Review.rating), sa.func.count(Review.id),
            *(sa.func.avg(getattr(Review, d)) for d in DIMENSIONS)]
    row = db.session.execute(sa.select(*cols).where(Review.status == ReviewStatus.VISIBLE.value)).one()
    count = int(row[1] or 0)
    return RatingSummary(average=_avg(row[0]) if count else None, count=count,
                         dimensions={d: _avg(row[2 + i]) for i, d in enumerate(DIMENSIONS)})


def rating_for_profile() -> dict[str, object] | None:
    """What a profile page (and its JSON-LD ``aggregateRating``) says about the ratings of the
    business in scope: ``{"average": 4.7 (one decimal), "count": 23}``, or ``None`` when it has no
    visible review (then no ``aggregateRating`` at all: none is not zero)."""
    summary = rating_summary()
    if not summary.count or summary.average is None:
        return None
    return {"average": round(summary.average, 1), "count": summary.count}


def visible_reviews(page: int = 1, per_page: int = PER_PAGE) -> tuple[list[Review], bool]:
    """Page ``page`` (from 1) of the visible reviews of the business in scope, newest first, and
    whether there is a next page."""
    page = max(1, page)
    rows = list(db.session.scalars(
        sa.select(Review).where(Review.status == ReviewStatus.VISIBLE.value)
        .order_by(Review.created_at.desc(), Review.id).offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def review_of_booking(booking_id: uuid.UUID) -> Review | None:
    """The review of booking ``booking_id`` in the business in scope (any status), or ``None``."""
    return db.session.scalar(sa.select(Review).where(Review.booking_id == booking_id))


def get_review(review_id: uuid.UUID) -> Review | None:
    """Review ``review_id`` of the business in scope (any status), or ``None``."""
    return db.session.scalar(sa.select(Review).where(Review.id == review_id))


def reviewed_booking_ids(booking_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``booking_ids`` (of the business in scope) already have a review (any status)."""
    if not booking_ids:
        return set()
    return set(db.session.scalars(sa.select(Review.booking_id).where(Review.booking_id.in_(booking_ids))))


def staff_reviews(*, rating: int | None = None, unreplied: bool = False, page: int = 1,
                  per_page: int = 25) -> tuple[list[Review], bool]:
    """The dashboard's list: reviews of the business in scope that are not removed (hidden ones
    included, for staff to see them marked), newest first, optionally only those with overall
    ``rating`` (1–5) or without a reply; page ``page`` and whether there is a next one."""
    stmt = sa.select(Review).where(Review.status != ReviewStatus.REMOVED.value)
    if rating is not None:
        stmt = stmt.where(Review.rating == rating)
    if unreplied:
        stmt = stmt.where(Review.reply_text.is_(None))
    page = max(1, page)
    rows = list(db.session.scalars(stmt.order_by(Review.created_at.desc(), Review.id)
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def service_name_of(service_id: uuid.UUID) -> str:
    """The name of service ``service_id`` of the business in scope in the reader's language where
    the business wrote one (``"visit"`` when missing), for "How was your Haircut?"."""
    service = db.session.scalar(sa.select(Service).where(Service.id == service_id))
    return localized(service, "name") if service is not None else "visit"
