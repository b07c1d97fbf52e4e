"""The marketplace read model: one ``marketplace_listing`` row per business.

A platform table (no ``tenant_id``: keyed by ``business_id``), written only by the platform role
from :mod:`app.marketplace.indexer` and read by apex search. It holds what the business shows
publicly, so search never reads tenant tables at query time.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import INT4MULTIRANGE, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.marketplace.geometry import Cube
from app.timeutil import utcnow


class MarketplaceListing(db.Model):
    """A listed business as search sees it.

    Money: ``price_from_amount`` minor units of ``price_currency`` (the cheapest active service).
    ``rating_average`` is ``None`` with no reviews (never 0); ``rating_dimensions`` maps
    ``quality``/``communication``/``professionalism``/``value`` to an average or ``None``.
    ``next_available`` is the next bookable start (tz-aware UTC) or ``None``; ``opening_minutes``
    the weekly opening intervals as minutes from Monday 00:00 local time (``timezone``).
    ``source_version`` is the business's availability version when the row was built.
    """

    __tablename__ = "marketplace_listing"

    business_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                                                   primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    category_slug: Mapped[str | None] = mapped_column(sa.String(40))
    category_name: Mapped[str] = mapped_column(sa.String(80), nullable=False, default="")
    city: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    postcode: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="")
    country: Mapped[str] = mapped_column(sa.String(2), nullable=False, default="")
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    #: The point as a cube (:mod:`app.marketplace.geometry`), for radius search; not loaded by default.
    earth: Mapped[str | None] = mapped_column(Cube, deferred=True)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    service_names: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    search_text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    search_document: Mapped[str] = mapped_column(TSVECTOR, nullable=False, default="")
    price_from_amount: Mapped[int | None] = mapped_column(sa.Integer)
    price_currency: Mapped[str | None] = mapped_column(sa.String(3))
    rating_average: Mapped[float | None] = mapped_column(sa.Float)
    rating_count: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    rating_dimensions: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    next_available: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    #: The service whose slot ``next_available`` is (the one-tap link books it).
    next_service_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="UTC")
    opening_minutes: Mapped[object] = mapped_column(INT4MULTIRANGE, nullable=False, default=list)
    opening_hours: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    plan_tier: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="basic")
    suspended: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    unlisted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    verified: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False, server_default="false")
    source_version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


#: The words (stemmed lexemes) of every listing's search document, for matching misspelt query
#: words by trigram similarity (:func:`app.marketplace.search.text_query`). Only ever grows; a word
#: no listing has any more simply matches nothing.
marketplace_word = sa.Table("marketplace_word", db.metadata, sa.Column("word", sa.String(100), primary_key=True))
