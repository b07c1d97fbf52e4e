"""How well a provider fits a job request, as pure functions (no database).

Each factor is a value from 0 (worst) to 1 (best), computed from a :class:`ProviderStats`:

* ``rating``: the Bayesian rating (:func:`app.marketplace.ranking.bayesian_rating`, the same
  prior as search) mapped from 1–5 stars to 0–1: ``(stars - 1) / 4``.
* ``completed``: won leads (completed jobs) ``n``, saturating: ``n / (n + 5)``.
* ``response_rate``: offers they claimed out of offers they got, with one claimed and one lapsed
  offer assumed (Laplace): ``(claimed + 1) / (offered + 2)`` (0.5 for a newcomer).
* ``response_time``: mean minutes from offer to claim ``m``: ``30 / (30 + m)`` (0.5 with no claims).
* ``distance``: km from their point to the job's ``d``: ``10 / (10 + d)`` (0.5 when unknown).
* ``load``: their open claimed or quoted leads ``k``: ``1 / (1 + k)``.
* ``expertise``: won leads in the request's category ``c``: ``c / (c + 3)``.
* ``verified``: 1 with the verified badge, else 0.
* ``recency``: hours since their last lead ``h``: ``h / (h + 24)`` (1 when they never had one),
  so leads are spread over providers.

The score is the weighted mean ``Σ wᵢ·vᵢ / Σ wᵢ`` (0–1; 0 when every weight is 0). Weights are
the platform settings ``routing.weight.<factor>`` (whole points, 0–100, read by the caller).
Each factor's part is stored as ``{"value", "weight", "contribution"}`` where ``contribution =
wᵢ·vᵢ / Σ w`` (the parts' contributions add up to the score).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.marketplace.ranking import Prior, bayesian_rating

#: The factors of a score, in the order they are shown.
FACTORS: tuple[str, ...] = ("rating", "completed", "response_rate", "response_time", "distance", "load",
                            "expertise", "verified", "recency")

#: What each factor means, for the console and the provider's "why this lead".
FACTOR_LABELS: dict[str, str] = {
    "rating": "Rating", "completed": "Completed jobs", "response_rate": "Response rate",
    "response_time": "Response time", "distance": "Distance", "load": "Current load",
    "expertise": "Expertise in the category", "verified": "Verified", "recency": "Time since last lead",
}

#: Half-saturation constants of the factors (see the module docstring).
COMPLETED_HALF = 5
RESPONSE_MINUTES_HALF = 30.0
DISTANCE_KM_HALF = 10.0
EXPERTISE_HALF = 3
RECENCY_HOURS_HALF = 24.0


@dataclass(frozen=True)
class ProviderStats:
    """What scoring knows of one provider for one request.

    ``rating_average``/``rating_count``: the listing's reviews (``None``/0 with none); ``won``:
    won leads (all categories); ``offered``/``claimed``: leads offered to them and how many of those
    they claimed; ``mean_response_minutes``: mean minutes from offer to claim (``None`` with no
    claim); ``open_load``: leads now ``claimed`` or ``quoted``; ``category_won``: won leads in the
    request's category; ``verified``: the listing's badge; ``last_offered_at``: their latest
    lead's offer time (tz-aware UTC, ``None`` if never); ``distance_km``: to the job (``None``
    when unknown).
    """

    rating_average: float | None = None
    rating_count: int = 0
    won: int = 0
    offered: int = 0
    claimed: int = 0
    mean_response_minutes: float | None = None
    open_load: int = 0
    category_won: int = 0
    verified: bool = False
    last_offered_at: datetime | None = None
    distance_km: float | None = None


def factor_values(stats: ProviderStats, now: datetime, prior: Prior = Prior()) -> dict[str, float]:
    """Every factor of :data:`FACTORS` for ``stats`` as of ``now`` (tz-aware UTC), each 0–1."""
    stars = bayesian_rating(stats.rating_average, stats.rating_count, prior)
    minutes = stats.mean_response_minutes
    if stats.last_offered_at is None:
        recency = 1.0
    else:
        hours = max(0.0, (now - stats.last_offered_at).total_seconds() / 3600)
        recency = hours / (hours + RECENCY_HOURS_HALF)
    return {
        "rating": min(1.0, max(0.0, (stars - 1) / 4)),
        "completed": stats.won / (stats.won + COMPLETED_HALF),
        "response_rate": (stats.claimed + 1) / (stats.offered + 2),
        "response_time": 0.5 if minutes is None else RESPONSE_MINUTES_HALF / (RESPONSE_MINUTES_HALF + max(0.0, minutes)),
        "distance": 0.5 if stats.distance_km is None else DISTANCE_KM_HALF / (DISTANCE_KM_HALF + stats.distance_km),
        "load": 1 / (1 + max(0, stats.open_load)),
        "expertise": stats.category_won / (stats.category_won + EXPERTISE_HALF),
        "verified": 1.0 if stats.verified else 0.0,
        "recency": recency,
    }


def blend(values: Mapping[str, float], weights: Mapping[str, int | float]) -> tuple[float, dict[str, dict]]:
    """The weighted mean of ``values`` (factor -> 0–1) under ``weights`` (factor -> points ≥ 0;
    a missing factor weighs 0) and its parts.

    Returns:
        ``(score, parts)``: ``score`` 0–1 (0 when all weights are 0), rounded to 6 places;
        ``parts`` factor -> ``{"value", "weight", "contribution"}`` for every factor of ``values``.
    """
    total = sum(max(0.0, float(weights.get(f, 0))) for f in values)
    parts: dict[str, dict] = {}
    score = 0.0
    for factor, value in values.items():
        weight = max(0.0, float(weights.get(factor, 0)))
        contribution = weight * value / total if total else 0.0
        score += contribution
        parts[factor] = {"value": round(value, 6), "weight": weight, "contribution": round(contribution, 6)}
    return round(score, 6), parts


def score_provider(stats: ProviderStats, weights: Mapping[str, int | float], now: datetime,
                   prior: Prior = Prior()) -> tuple[float, dict[str, dict]]:
    """``(score, parts)`` of one provider (see :func:`factor_values` and :func:`blend`)."""
    return blend(factor_values(stats, now, prior), weights)
