"""Fairness simulation of marketplace ranking (:mod:`app.marketplace.ranking`), no server needed.

A city 12 km across holds 300 businesses at random points with varied relevance to one search
(text match: exact, partial, fuzzy, or none for other trades; ratings from none to hundreds of
reviews; some with a free slot in the window) and plans (Free, Pro = ``featured`` tier, Premium
= ``top`` tier). Plans are assigned in the same proportion inside every relevance class, so any
difference in exposure between plans can only come from the ranking. 10,000 searches come from
random points in the city (radius 25 km, sorted by relevance, a fresh seed each: another person,
place or hour), and each organic rank ``r`` gives position-weighted exposure ``1/log2(1+r)``.

Reported:

* **Equal relevance**: within one search, the businesses of one relevance band are equally
  relevant; each one's fair share is the mean exposure of the positions its band occupies. Over
  all searches, each business's exposure divided by its fair share: the spread (min, max) and the
  share of businesses within ±15 %.
* **Paying share of organic top-3** against the paying share of the relevant businesses (those
  that match the search at all).
* **Featured positions**: always from the matching paying businesses; the share of each paying
  tier, and the spread of featured exposure within a tier.

    python bench/fairness.py [--write] [--searches 10000]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.marketplace.ranking import Candidate, band, pick_featured, rank  # noqa: E402
from bench.harness import record  # noqa: E402

CITY_KM = 12.0
RADIUS_KM = 25.0
#: (text match, how many businesses): 0 = another trade, not relevant to the search.
TEXT_CLASSES = ((1.0, 60), (0.8, 60), (0.55, 60), (0.0, 120))
#: (rating average, review count) profiles, cycled within each text class.
RATINGS = ((None, 0), (4.8, 200), (4.2, 30), (5.0, 1), (3.6, 60), (4.6, 12))
#: Plan tiers in the proportion of every relevance class: 60 % Free, 25 % Pro, 15 % Premium.
PLAN_PATTERN = ["basic"] * 12 + ["featured"] * 5 + ["top"] * 3
PAYING = ("featured", "top")


@dataclass
class Business:
    """A simulated business: a point (km in the city square) and fixed attributes."""

    id: uuid.UUID
    x: float
    y: float
    text: float
    rating_average: float | None
    rating_count: int
    available: bool
    tier: str


def make_city(rng: random.Random) -> list[Business]:
    """The 300 businesses (relevance classes as :data:`TEXT_CLASSES` x :data:`RATINGS` x
    availability, plans spread evenly through every class)."""
    out = []
    for text, count in TEXT_CLASSES:
        for i in range(count):
            avg, n = RATINGS[i % len(RATINGS)]
            available = (i // len(RATINGS)) % 2 == 0
            tier = PLAN_PATTERN[(i * 7) % len(PLAN_PATTERN)]
            out.append(Business(uuid.UUID(int=rng.getrandbits(128)), rng.uniform(0, CITY_KM), rng.uniform(0, CITY_KM),
                                text, avg, n, available, tier))
    return out


def exposure(rank_1: int) -> float:
    """Position-weighted exposure of organic rank ``rank_1`` (1-based)."""
    return 1.0 / math.log2(1 + rank_1)


def simulate(searches: int, seed: int = 7) -> dict[str, float]:
    """Run the simulation; returns the reported figures."""
    rng = random.Random(seed)
    city = make_city(rng)
    got: dict[uuid.UUID, float] = defaultdict(float)
    fair: dict[uuid.UUID, float] = defaultdict(float)
    top3_paying = top3_total = 0
    featured_count: dict[uuid.UUID, int] = defaultdict(int)
    featured_tiers: dict[str, int] = defaultdict(int)
    outside = 0
    for s in range(searches):
        px, py = rng.uniform(0, CITY_KM), rng.uniform(0, CITY_KM)
        matching = [Candidate(id=b.id, text=b.text, distance_km=math.hypot(b.x - px, b.y - py),
                              rating_average=b.rating_average, rating_count=b.rating_count, available=b.available,
                              tier=b.tier) for b in city if b.text > 0]
        seed_s = f"search-{seed}-{s}"
        ordered = rank(matching, seed_s, "relevance", RADIUS_KM)
        positions: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(ordered, start=1):
            got[c.id] += exposure(i)
            positions[band(c.relevance)].append(i)
        for c in ordered:
            ranks = positions[band(c.relevance)]
            fair[c.id] += sum(exposure(r) for r in ranks) / len(ranks)
        for c in ordered[:3]:
            top3_total += 1
            top3_paying += c.tier in PAYING
        ids = {c.id for c in matching}
        for c in pick_featured(matching, seed_s, 1):
            outside += c.id not in ids
            featured_count[c.id] += 1
            featured_tiers[c.tier] += 1
    ratios = [got[i] / fair[i] for i in fair]
    relevant = [b for b in city if b.text > 0]
    paying_relevant = sum(b.tier in PAYING for b in relevant) / len(relevant)
    within = sum(0.85 <= r <= 1.15 for r in ratios) / len(ratios)
    spread = {}
    for tier in PAYING:
        counts = [featured_count[b.id] for b in relevant if b.tier == tier]
        spread[tier] = (min(counts) / statistics.mean(counts), max(counts) / statistics.mean(counts))
    classes: dict[tuple, list[float]] = defaultdict(list)
    for b in relevant:
        classes[(b.text, b.rating_average, b.rating_count, b.available)].append(got[b.id])
    place = [v / statistics.mean(vals) for vals in classes.values() for v in vals]
    total_featured = sum(featured_tiers.values())
    return {
        "searches": searches, "businesses": len(city), "relevant": len(relevant),
        "place_min": min(place), "place_max": max(place),
        "ratio_min": min(ratios), "ratio_max": max(ratios), "within_15": within,
        "paying_top3": top3_paying / top3_total, "paying_relevant": paying_relevant,
        "featured_outside": outside, "featured_per_search": total_featured / searches,
        "featured_top_share": featured_tiers["top"] / total_featured,
        "featured_pro_share": featured_tiers["featured"] / total_featured,
        "featured_top_spread": spread["top"], "featured_pro_spread": spread["featured"],
    }


def table(r: dict[str, float]) -> str:
    """The results as a Markdown table."""
    gap = abs(r["paying_top3"] - r["paying_relevant"]) * 100
    rows = [
        ("searches / businesses / relevant to the search", f"{r['searches']:,} / {r['businesses']} / {r['relevant']}"),
        ("equal relevance: exposure / fair share, min–max", f"{r['ratio_min']:.3f}–{r['ratio_max']:.3f}"),
        ("equal relevance: businesses within ±15 %", f"{r['within_15'] * 100:.1f} %"),
        ("same attributes, different places: exposure / class mean, min–max",
         f"{r['place_min']:.3f}–{r['place_max']:.3f}"),
        ("paying share of organic top-3 positions", f"{r['paying_top3'] * 100:.1f} %"),
        ("paying share of relevant businesses", f"{r['paying_relevant'] * 100:.1f} %"),
        ("difference (target: within 5 points)", f"{gap:.1f} points"),
        ("featured positions per search (at most 2)", f"{r['featured_per_search']:.2f}"),
        ("featured positions given to non-matching businesses", f"{r['featured_outside']}"),
        ("featured positions: Premium (top) / Pro (featured) share",
         f"{r['featured_top_share'] * 100:.1f} % / {r['featured_pro_share'] * 100:.1f} %"),
        ("featured exposure within a tier, min–max / mean (Premium; Pro)",
         f"{r['featured_top_spread'][0]:.2f}–{r['featured_top_spread'][1]:.2f}; "
         f"{r['featured_pro_spread'][0]:.2f}–{r['featured_pro_spread'][1]:.2f}"),
    ]
    return "\n".join(["| measure | result |", "|---|---|", *[f"| {a} | {b} |" for a, b in rows]])


def main() -> None:
    """Simulate, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("--searches", type=int, default=10_000)
    args = parser.parse_args()
    result = table(simulate(args.searches))
    print(result)
    if args.write:
        record_table = (f"Recorded {date.today().isoformat()} with `python bench/fairness.py --write` "
                        f"(deterministic: fixed seeds).\n\n{result}")
        record("fairness", record_table)


if __name__ == "__main__":
    main()
