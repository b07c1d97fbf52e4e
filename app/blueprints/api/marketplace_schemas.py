"""Pydantic models of the marketplace endpoints (apex host): categories and search results."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.blueprints.api.schemas import Money


class CategoryOut(BaseModel):
    """A category of the platform's taxonomy and how many listed businesses it has."""

    slug: str = Field(examples=["barber"])
    name: str = Field(examples=["Barber"])
    count: int = Field(ge=0, examples=[12])


class CategoryList(BaseModel):
    """The active categories in display order."""

    categories: list[CategoryOut]


class RatingOut(BaseModel):
    """Verified reviews' overall rating: ``average`` stars (1-5), ``null`` with no reviews yet
    (never 0), and how many reviews."""

    average: float | None = Field(examples=[4.7])
    count: int = Field(ge=0, examples=[38])


class LocationOut(BaseModel):
    """Where the business is: WGS 84 degrees (``null`` when not placed on the map) and its city."""

    lat: float | None = Field(examples=[51.5136])
    lon: float | None = Field(examples=[-0.1365])
    city: str = Field(examples=["London"])


class SearchResultOut(BaseModel):
    """One business in the results. ``category`` is the category's slug; ``url`` its booking
    page; ``distance_km`` from the search centre (``null`` without one); ``price_from`` the
    cheapest service (``null`` when none has a price); ``next_available`` the next bookable start
    (RFC 3339, UTC) or ``null``; ``featured``: shown in a featured position (a paying plan's
    business that matches the search; not repeated among the organic results of that page)."""

    slug: str
    name: str
    category: str | None
    url: str
    distance_km: float | None
    rating: RatingOut
    price_from: Money | None
    next_available: datetime | None
    featured: bool
    location: LocationOut


class SearchOut(BaseModel):
    """A page of results: the featured positions (at most two) first, then the page's organic
    results (a business shown as featured is not repeated); ``total`` counts the organic matches."""

    results: list[SearchResultOut]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=50)
