"""The ``review`` table: one verified review per completed booking, with the business's reply.

A review belongs to a business (``TenantScoped``, RLS like every tenant table) and hangs off its
booking (unique per business and booking, composite foreign key, cascade) and the booking's
customer. ``service_name`` and ``visit_at`` are snapshots taken when the review is written, so
"Verified visit · Haircut · November 2026" stays true when the service is later renamed;
``translations`` snapshots the service name in the business's other languages, so a Danish
reader reads "Dameklip" (:func:`app.catalog.translations.localized` with ``"service_name"``).

Ratings are whole numbers 1–5: ``rating`` (overall, required) and the four optional
dimensions of :data:`DIMENSIONS`. ``text`` is plain text (no HTML survives
:func:`app.reviews.text.plain_text`), at most :data:`MAX_TEXT` characters; up to :data:`MAX_PHOTOS` photos. ``status`` is one of
:class:`ReviewStatus`; only ``visible`` reviews are served and counted.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow

#: The four rated dimensions besides the overall rating, in display order.
DIMENSIONS: tuple[str, ...] = ("quality", "communication", "professionalism", "value")
#: Longest review text and reply (characters, after sanitising).
MAX_TEXT = 2000
MAX_REPLY = 2000
#: Most photos on one review.
MAX_PHOTOS = 3
#: Lowest and highest star rating.
MIN_RATING, MAX_RATING = 1, 5


class ReviewStatus(enum.StrEnum):
    """Whether a review is served: ``visible`` (shown and counted), ``hidden`` (by moderation,
    e.g. after a report; may be restored) or ``removed`` (for good)."""

    VISIBLE = "visible"
    HIDDEN = "hidden"
    REMOVED = "removed"


def _rating_check(column: str, nullable: bool) -> sa.CheckConstraint:
    rule = f"{column} between {MIN_RATING} and {MAX_RATING}"
    return sa.CheckConstraint(f"{column} is null or {rule}" if nullable else rule, name=f"review_{column}_range")


class Review(TenantScoped, db.Model):
    """A customer's review of one completed booking (see the module docstring).

    Instants (``created_at``, ``edited_at``, ``visit_at``, ``replied_at``) are tz-aware UTC.
    The reply (``reply_text``, ``replied_at``, ``replied_by`` = the staff account) is the
    business's one public answer; ``reply_hidden`` hides it (moderation) without hiding the review.
    """

    __tablename__ = "review"
    __table_args__ = (
        tenant_fk(["booking_id"], "booking"),
        tenant_fk(["customer_id"], "customer"),
        sa.UniqueConstraint("tenant_id", "booking_id", name="review_one_per_booking"),
        _rating_check("rating", False),
        *(_rating_check(d, True) for d in DIMENSIONS),
        sa.CheckConstraint(f"char_length(text) <= {MAX_TEXT}", name="review_text_length"),
        sa.CheckConstraint(f"reply_text is null or char_length(reply_text) between 1 and {MAX_REPLY}",
                           name="review_reply_length"),
        sa.CheckConstraint("status in ('visible', 'hidden', 'removed')", name="review_status"),
        sa.CheckConstraint(f"cardinality(photo_keys) <= {MAX_PHOTOS}", name="review_photo_count"),
        # The aggregates read only this index (index-only scan over a business's visible reviews).
        sa.Index("review_visible", "tenant_id", "created_at",
                 postgresql_where=sa.text("status = 'visible'"),
                 postgresql_include=["rating", *DIMENSIONS]),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    #: The name shown with the review: the customer's first name and last initial ("Anna K.").
    author_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    service_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    #: The service name in other languages when reviewed: ``{"da": {"service_name": "Dameklip"}}``.
    translations: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    visit_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    rating: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    quality: Mapped[int | None] = mapped_column(sa.SmallInteger)
    communication: Mapped[int | None] = mapped_column(sa.SmallInteger)
    professionalism: Mapped[int | None] = mapped_column(sa.SmallInteger)
    value: Mapped[int | None] = mapped_column(sa.SmallInteger)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: Storage keys of the review's photos (``reviews/<tenant hex>/<digest>.<ext>``, at most :data:`MAX_PHOTOS`).
    photo_keys: Mapped[list[str]] = mapped_column(ARRAY(sa.String(200)), nullable=False, default=list,
                                                  server_default="{}")
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=ReviewStatus.VISIBLE.value)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reply_text: Mapped[str | None] = mapped_column(sa.Text)
    replied_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    replied_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    reply_hidden: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default="false")

    @property
    def ratings(self) -> dict[str, int | None]:
        """The four dimensions ``{"quality": 4, "communication": None, …}`` (1–5 or ``None``)."""
        return {d: getattr(self, d) for d in DIMENSIONS}

    @property
    def visible(self) -> bool:
        """True when the review is served (status ``visible``)."""
        return self.status == ReviewStatus.VISIBLE.value

    @property
    def public_reply(self) -> str | None:
        """The reply as the public may see it: ``None`` when there is none or it is hidden."""
        return None if self.reply_hidden or not self.reply_text else self.reply_text
