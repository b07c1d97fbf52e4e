"""Pydantic models of the provider lead endpoints (``/leads``): what they accept and answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.blueprints.api.schemas import Problem


class QuoteIn(BaseModel):
    """A quote: ``min``/``max`` in minor units of ``currency`` (the business's ISO 4217 code),
    ``duration_minutes`` the estimated duration, ``message`` to the customer (1–2,000 characters)."""

    model_config = ConfigDict(extra="forbid")

    min: int = Field(ge=0, le=100_000_000, description="Lowest price, minor units.")
    max: int = Field(gt=0, le=100_000_000, description="Highest price, minor units (at least `min`).")
    currency: str = Field(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$",
                          description="ISO 4217 code: the business's currency.")
    duration_minutes: int = Field(ge=1, le=20160, description="Estimated duration in minutes.")
    message: str = Field(min_length=1, max_length=2000, description="Message to the customer.")


class QuoteOut(BaseModel):
    """A lead's quote: range in minor units of ``currency``, duration in minutes."""

    min: int
    max: int
    currency: str
    duration_minutes: int | None
    message: str
    quoted_at: datetime | None


class ScorePart(BaseModel):
    """One factor of the routing score: its ``value`` (0–1), ``weight`` and ``contribution``."""

    value: float
    weight: float
    contribution: float


class LeadOut(BaseModel):
    """A lead of the business: the job (no contact before the claim), why it came, and its state.
    ``distance_km`` from the business's base; instants RFC 3339 UTC."""

    id: str
    job_request_id: str
    status: str = Field(description="offered, claimed, quoted, won, lost, refunded, expired or declined.")
    category: str | None
    title: str
    answers: list[dict[str, str]] = Field(description='The answers as `{"label", "text"}` pairs.')
    postcode: str
    city: str
    distance_km: float | None
    timing: str
    complexity_tier: int
    credits_cost: int
    routing_tier: int | None
    score: float
    score_parts: dict[str, ScorePart]
    offered_at: datetime
    expires_at: datetime | None
    claimed_at: datetime | None
    contact_due_at: datetime | None
    contacted_at: datetime | None
    contact: dict[str, str] | None = Field(description='`{"name", "email", "phone"}` once claimed, else null.')
    quote: QuoteOut | None


class LeadList(BaseModel):
    """Leads of the business, newest offer first (at most 200)."""

    leads: list[LeadOut]


class ClaimProblem(Problem):
    """A 409 on claim: ``type`` names the case (``…/lead-not-routed``, ``…/lead-already-claimed``,
    ``…/insufficient-credits``); the credits case adds ``needed`` and ``balance``."""

    needed: int | None = None
    balance: int | None = None
