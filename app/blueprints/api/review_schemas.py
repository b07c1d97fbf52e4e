"""Pydantic models of the API's review endpoints (``GET /reviews``, ``POST /bookings/{id}/review``);
they also generate the endpoints' component schemas in ``/api/v1/openapi.json``."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from app.blueprints.api.schemas import MULTI_LINE_PATTERN, InstantOut
from app.reviews.models import MAX_TEXT

#: A star rating as the API takes it: a JSON integer 1–5 (strict: no strings, no booleans).
_STARS = {"ge": 1, "le": 5, "strict": True}


class RatingsIn(BaseModel):
    """The four optional dimension ratings of a review, each a whole number 1–5 or absent/null."""

    model_config = ConfigDict(extra="forbid")

    quality: int | None = Field(None, **_STARS)
    communication: int | None = Field(None, **_STARS)
    professionalism: int | None = Field(None, **_STARS)
    value: int | None = Field(None, **_STARS)


class ReviewCreate(BaseModel):
    """Body of ``POST /bookings/{id}/review``: the overall ``rating`` (1–5), optional dimension
    ``ratings`` and optional plain ``text`` (HTML is removed; at most 2,000 characters)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: int = Field(description="Overall rating, a whole number from 1 to 5.", **_STARS)
    ratings: RatingsIn | None = Field(None, description="Optional ratings of quality, communication, "
                                                         "professionalism and value (1–5 each).")
    text: str | None = Field(None, max_length=MAX_TEXT, pattern=MULTI_LINE_PATTERN,
                             description="What the customer says; plain text (HTML is removed), several lines allowed.")


class RatingsOut(BaseModel):
    """A review's dimension ratings (1–5, ``null`` when not rated)."""

    quality: int | None
    communication: int | None
    professionalism: int | None
    value: int | None


class ReplyOut(BaseModel):
    """The business's public reply to a review."""

    text: str
    replied_at: InstantOut


class ReviewOut(BaseModel):
    """A visible review: overall ``rating``, dimension ``ratings``, plain ``text``, when it was
    written (UTC), the business's ``reply`` (``null`` when none) and the URLs of its ``photos``."""

    id: uuid.UUID
    rating: int = Field(ge=1, le=5)
    ratings: RatingsOut
    text: str
    created_at: InstantOut
    reply: ReplyOut | None
    photos: list[str] = Field(default_factory=list, json_schema_extra={"items": {"type": "string", "format": "uri"}},
                              description="Absolute URLs of the review's photos (at most 3).")


class DimensionsOut(BaseModel):
    """Average of each dimension over the visible reviews that rated it (``null`` when none did)."""

    quality: float | None
    communication: float | None
    professionalism: float | None
    value: float | None


class SummaryOut(BaseModel):
    """Exact aggregates over the business's visible reviews; ``average`` is ``null`` (never 0)
    when there is no review."""

    average: float | None = Field(description="Average overall rating 1.0–5.0, or null with no reviews.")
    count: int = Field(ge=0)
    dimensions: DimensionsOut


class ReviewList(BaseModel):
    """``GET /reviews``: the summary and one page of visible reviews, newest first."""

    summary: SummaryOut
    reviews: list[ReviewOut]
    page: int = Field(ge=1)
    has_more: bool = Field(description="Whether page `page + 1` has reviews.")
