"""Fair ranking, as pure functions (no database): the search and the fairness simulation in
``bench/`` both use them.

Organic order is by relevance alone: text match, distance, rating as a Bayesian average, and a
free slot in the asked window, each scored 0-1 and weighted (:data:`WEIGHTS`). Businesses whose
relevance falls in the same band (:data:`BAND_WIDTH`) are equally relevant and rotate: their
order within the band is a hash of the request's seed and their id, so a shared URL shows the
same order for the hour (:func:`request_seed`) while over many searches each gets the same
exposure. The plan never enters organic order.

Featured positions (:func:`pick_featured`): at most :data:`FEATURED_SLOTS` per page, drawn in
rotation from paying plans' businesses among those that match the query, radius and filters,
one per paying tier when both tiers have a match.
"""

from __future__ import annotations

import functools
import hashlib
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

#: Weight of each relevance component (they sum to 1).
WEIGHTS = {"text": 0.4, "distance": 0.25, "rating": 0.25, "availability": 0.1}
#: Width of a relevance band: businesses within one band are equally relevant and rotate.
BAND_WIDTH = 0.05
#: Featured positions per page at most.
FEATURED_SLOTS = 2
#: The plans' marketplace tiers that may fill featured positions, highest first (app.billing.plans).
PAYING_TIERS = ("top", "featured")
#: Default prior of the Bayesian rating: the mean a business is assumed to have, and how many
#: reviews that assumption weighs (settings MARKETPLACE_RATING_PRIOR_MEAN / _WEIGHT).
DEFAULT_PRIOR_MEAN = 4.0
DEFAULT_PRIOR_WEIGHT = 10.0
#: The sort orders a search accepts.
SORTS = ("relevance", "distance", "rating", "price")


@dataclass(frozen=True)
class Prior:
    """The Bayesian rating's prior: ``mean`` stars (1-5) weighing as ``weight`` reviews."""

    mean: float = DEFAULT_PRIOR_MEAN
    weight: float = DEFAULT_PRIOR_WEIGHT


@dataclass(slots=True)
class Candidate:
    """A business that matches a search, with what ranking needs.

    ``text``: text match 0-1 (1 without free text); ``distance_km``: from the search centre or
    ``None`` without one; ``rating_average``/``rating_count``: the stored summary (``None``/0 with
    no reviews); ``available``: a free slot in the asked window; ``price_from``: minor units or
    ``None``; ``tier``: the plan's marketplace tier; ``row``: whatever the caller carries along.
    """

    id: uuid.UUID
    text: float = 1.0
    distance_km: float | None = None
    rating_average: float | None = None
    rating_count: int = 0
    available: bool = False
    price_from: int | None = None
    tier: str = "basic"
    name: str = ""
    row: object = field(default=None, repr=False, compare=False)
    relevance: float = 0.0


def bayesian_rating(average: float | None, count: int, prior: Prior = Prior()) -> float:
    """The rating with the prior mixed in: ``(w·m + n·avg) / (w + n)`` stars; the prior mean with
    no reviews. One 5-star review stays near the prior; 200 reviews at 4.8 stay near 4.8."""
    if not count or average is None:
        return prior.mean
    return (prior.weight * prior.mean + count * average) / (prior.weight + count)


def relevance(c: Candidate, radius_km: float, prior: Prior = Prior()) -> float:
    """The relevance of ``c`` in 0-1: the weighted sum of text match, closeness within
    ``radius_km`` (1 at the centre, 0 at the edge; 1 without a centre), the Bayesian rating
    scaled from 1-5 stars to 0-1, and availability in the asked window."""
    closeness = 1.0 if c.distance_km is None else max(0.0, 1.0 - c.distance_km / radius_km)
    rating = (bayesian_rating(c.rating_average, c.rating_count, prior) - 1.0) / 4.0
    return (WEIGHTS["text"] * min(1.0, max(0.0, c.text)) + WEIGHTS["distance"] * closeness
            + WEIGHTS["rating"] * rating + WEIGHTS["availability"] * (1.0 if c.available else 0.0))


def band(value: float) -> int:
    """The relevance band of ``value``: equal bands are equally relevant."""
    return int(math.floor(value / BAND_WIDTH + 1e-9))


def request_seed(params: dict[str, object], now: datetime) -> str:
    """The rotation seed of a search: its normalised parameters (paging excluded) and the UTC
    hour, so one URL shows one order for the hour and another the next."""
    canon = "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("page", "per_page")
                     and params[k] not in (None, "", False))
    return hashlib.sha256(f"{canon}|{now:%Y%m%d%H}".encode()).hexdigest()


@functools.lru_cache(maxsize=256)
def _seed_key(seed: str) -> bytes:
    return hashlib.blake2b(seed.encode(), digest_size=32).digest()


def rotation_key(seed: str, business_id: uuid.UUID) -> int:
    """A stable pseudo-random 64-bit number for ``business_id`` under ``seed`` (order within a
    band): BLAKE2b of the id's 16 bytes keyed by the seed (RFC 7693 keyed mode), so a search
    hashes 16 bytes per match and derives the key once per seed."""
    return int.from_bytes(hashlib.blake2b(business_id.bytes, digest_size=8, key=_seed_key(seed)).digest(), "big")


def rank(candidates: Sequence[Candidate], seed: str, sort: str = "relevance", radius_km: float = 25.0,
         prior: Prior = Prior()) -> list[Candidate]:
    """Organic order of ``candidates`` (each gets its ``relevance``).

    ``relevance``: by band, highest first, rotated within a band by ``seed``. ``distance``:
    nearest first; ``rating``: Bayesian rating, then number of reviews; ``price``: lowest
    "from" price first (none last). Ties in the other orders fall back to relevance.

    Raises:
        ValueError: an unknown ``sort``.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    for c in candidates:
        c.relevance = relevance(c, radius_km, prior)

    def by_relevance(c: Candidate) -> tuple:
        return (-band(c.relevance), rotation_key(seed, c.id))

    if sort == "distance":
        def key(c: Candidate) -> tuple:
            return (c.distance_km if c.distance_km is not None else math.inf, *by_relevance(c))
    elif sort == "rating":
        def key(c: Candidate) -> tuple:
            return (-round(bayesian_rating(c.rating_average, c.rating_count, prior), 3), -c.rating_count,
                    *by_relevance(c))
    elif sort == "price":
        def key(c: Candidate) -> tuple:
            return (c.price_from if c.price_from is not None else math.inf, *by_relevance(c))
    else:
        key = by_relevance
    return sorted(candidates, key=key)


def pick_featured(candidates: Sequence[Candidate], seed: str, page: int = 1,
                  slots: int = FEATURED_SLOTS) -> list[Candidate]:
    """The featured businesses of result page ``page``: at most ``slots``, only from
    ``candidates`` (the businesses that match the query, radius and filters) on a paying tier.

    Each paying tier with a match gets a position (highest tier first) before any tier gets a
    second; within a tier the businesses take turns: by ``seed`` (the hour) and from page to page.
    """
    tiers = [sorted((c for c in candidates if c.tier == t), key=lambda c: rotation_key(seed + ":featured", c.id))
             for t in PAYING_TIERS]
    tiers = [t for t in tiers if t]
    if not tiers or slots <= 0:
        return []
    picked: list[Candidate] = []
    turn = 0
    while len(picked) < slots and turn < slots * len(tiers):
        pool = tiers[turn % len(tiers)]
        rnd = turn // len(tiers)
        per_page = -(-slots // len(tiers))  # positions this tier gets per page
        choice = pool[((page - 1) * per_page + rnd) % len(pool)]
        if choice not in picked:
            picked.append(choice)
        turn += 1
    return picked[:slots]
