"""Benchmark: apex search (``GET /api/v1/marketplace/search``) over 10,000 listed businesses
carrying 500,000 reviews, against the ``/healthz`` floor measured in the same run.

Listings are written straight into ``marketplace_listing`` (and a minimal ``tenant`` row each,
which the listing references) over Copenhagen, London and New York, 12 categories. Reviews only
matter to search through the listing's aggregates (``rating_average``, ``rating_count``, per
dimension), so they are generated as aggregates summing to 500,000 reviews; the reviews table
itself is not read at query time. Every measured query combines text (some misspelt), a
category, a point with a radius and an availability window, from a random point in a random
city. Served by gunicorn (2 workers x 8 threads) on loopback with one keep-alive client, which
alternates a floor request and a search, so both are measured under the same load.

Targets (issue 11): p99 under 50 ms and within 3x the floor, in the same run.

    python bench/search.py [--write] [-n 300]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.devservices import free_port  # noqa: E402
from app.marketplace.geometry import xyz  # noqa: E402
from bench.harness import gunicorn, percentile, record, stack, stop  # noqa: E402

BUSINESSES = 10_000
REVIEWS = 500_000
#: City centres (lat, lon), time zone, currency.
CITIES = {
    "Copenhagen": ((55.6761, 12.5683), "Europe/Copenhagen", "DKK"),
    "London": ((51.5074, -0.1278), "Europe/London", "GBP"),
    "New York": ((40.7128, -74.0060), "America/New_York", "USD"),
}
#: Category slug -> (name, service names, words people search for (one misspelt)).
CATEGORIES = {
    "hair": ("Hair salon", ["Haircut", "Colour", "Blow dry"], ["haircut", "colour", "salon", "hiarcut"]),
    "barber": ("Barber", ["Skin fade", "Beard trim", "Hot towel shave"], ["barber", "fade", "beard", "barbr"]),
    "nails": ("Nails", ["Gel manicure", "Pedicure"], ["manicure", "nails", "gel", "pedicur"]),
    "beauty": ("Beauty", ["Facial", "Brow shaping"], ["facial", "brows", "beauty", "facal"]),
    "massage": ("Massage", ["Deep tissue massage", "Sports massage"], ["massage", "deep tissue", "masage"]),
    "cleaning": ("Cleaning", ["Home cleaning", "Deep clean"], ["cleaning", "cleaner", "clening"]),
    "handyman": ("Handyman", ["Furniture assembly", "Repairs"], ["handyman", "repairs", "assembly", "handymn"]),
    "plumbing": ("Plumbing", ["Leak repair", "Boiler service"], ["plumber", "leak", "boiler", "plumbr"]),
    "electrician": ("Electrician", ["Rewiring", "Socket install"], ["electrician", "rewiring", "electrican"]),
    "consulting": ("Consulting", ["Strategy session", "Tax advice"], ["consultant", "tax", "strategy"]),
    "tutoring": ("Tutoring", ["Maths tutoring", "Piano lesson"], ["tutor", "maths", "piano", "tutr"]),
    "pet-care": ("Pet care", ["Dog walking", "Grooming"], ["dog walking", "grooming", "groomer"]),
}
WORDS = ["Studio", "House", "Corner", "Lab", "Co", "Collective", "Works", "Room", "Place", "Club"]
PREFIXES = ["North", "Royal", "Little", "Golden", "Urban", "Green", "Blue", "Bright", "Old Town", "Harbour"]
#: Syllables of the made-up words of descriptions (a vocabulary of thousands of words, as real
#: descriptions give the fuzzy matcher).
SYLLABLES = ["ka", "lo", "mi", "ren", "to", "sa", "vel", "dor", "in", "ba", "qui", "ne", "sto", "ar", "fe", "lu"]
#: Scatter of businesses around a city centre, km (Gaussian sigma).
SPREAD_KM = 6.0


def offset(centre: tuple[float, float], rng: random.Random, sigma_km: float) -> tuple[float, float]:
    """A point scattered around ``centre`` (degrees), ``sigma_km`` standard deviation."""
    dy, dx = rng.gauss(0, sigma_km), rng.gauss(0, sigma_km)
    lat = centre[0] + dy / 110.574
    lon = centre[1] + dx / (111.320 * math.cos(math.radians(centre[0])))
    return lat, lon


def review_counts(rng: random.Random) -> list[int]:
    """Review counts per business summing to exactly :data:`REVIEWS` (long-tailed; 15% have none)."""
    weights = [0.0 if rng.random() < 0.15 else rng.paretovariate(1.3) for _ in range(BUSINESSES)]
    total = sum(weights)
    counts = [int(w / total * REVIEWS) for w in weights]
    counts[max(range(BUSINESSES), key=lambda i: weights[i])] += REVIEWS - sum(counts)
    return counts


def seed_listings(dsn: str) -> None:
    """Write the businesses and their listings (one transaction, as the owner)."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    counts = review_counts(rng)
    tenants, listings = [], []
    for i in range(BUSINESSES):
        city = list(CITIES)[i % 3]
        (centre, tz, currency) = CITIES[city]
        slug_cat = list(CATEGORIES)[rng.randrange(len(CATEGORIES))]
        cat_name, services, _ = CATEGORIES[slug_cat]
        name = f"{rng.choice(PREFIXES)} {cat_name} {rng.choice(WORDS)} {i}"
        slug = f"biz-{i}"
        lat, lon = offset(centre, rng, SPREAD_KM)
        tid = uuid.uuid4()
        n = counts[i]
        avg = None if n == 0 else round(min(5.0, max(1.0, rng.gauss(4.3, 0.45))), 2)
        dims = {d: (None if avg is None else round(min(5.0, max(1.0, avg + rng.gauss(0, 0.2))), 2))
                for d in ("quality", "communication", "professionalism", "value")}
        nxt = None if rng.random() < 0.1 else now + timedelta(minutes=rng.randrange(30, 14 * 24 * 60))
        tenants.append((tid, slug, name, tz, currency, slug_cat, city, lat, lon))
        text = " ".join([name, cat_name, *services]).lower()
        words = " ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(8))
        doc_a, doc_b, doc_c = f"{name} {cat_name}", " ".join(services), f"{city} {words}"
        opening = "{[540,1020),[1980,2460),[3420,3900),[4860,5340),[6300,6780)}"
        listings.append((tid, slug, name, slug_cat, cat_name, city, lat, lon, list(xyz(lat, lon)), ", ".join(services),
                         text, doc_a, doc_b, doc_c, rng.randrange(10, 200) * 100, currency, avg, n, json.dumps(dims),
                         nxt, tz, opening, rng.choices(["basic", "featured", "top"], [70, 20, 10])[0]))
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select set_config('app.platform', 'on', true)")
        cur.executemany("insert into tenant (id, slug, name, timezone, currency, category, category_slug, city, "
                        "latitude, longitude, lead_time_minutes, horizon_days, slot_interval_minutes, "
                        "requires_confirmation, cancellation_cutoff_hours, public_bookings_per_hour, created_at) "
                        "values (%s, %s, %s, %s, %s, '', %s, %s, %s, %s, 60, 60, 15, false, 24, 60, now())", tenants)
        cur.executemany(
            "insert into marketplace_listing (business_id, slug, name, category_slug, category_name, city, latitude, "
            "longitude, earth, service_names, search_text, search_document, price_from_amount, price_currency, "
            "rating_average, rating_count, rating_dimensions, next_available, timezone, opening_minutes, plan_tier) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, cube(%s::float8[]), %s, %s, "
            "setweight(to_tsvector('english', %s), 'A') || setweight(to_tsvector('english', %s), 'B') "
            "|| setweight(to_tsvector('english', %s), 'C'), %s, %s, %s, %s, %s, %s, %s, %s::int4multirange, %s)",
            listings)
        cur.execute("insert into marketplace_word (word) select distinct w from marketplace_listing, "
                    "unnest(tsvector_to_array(search_document)) as w where char_length(w) between 3 and 100 "
                    "and w !~ '[0-9]' on conflict do nothing")
        cur.execute("analyze marketplace_listing")
        cur.execute("analyze marketplace_word")
        total = cur.execute("select count(*), sum(rating_count) from marketplace_listing").fetchone()
        words = cur.execute("select count(*) from marketplace_word").fetchone()[0]
    print(f"seeded {total[0]} listings carrying {total[1]} reviews; {words} words")


def queries(rng: random.Random, n: int) -> list[dict[str, str]]:
    """``n`` search queries: text + category + point + radius + availability window."""
    out = []
    for _ in range(n):
        centre = CITIES[rng.choice(list(CITIES))][0]
        lat, lon = offset(centre, rng, 3.0)
        slug = rng.choice(list(CATEGORIES))
        out.append({"q": rng.choice(CATEGORIES[slug][2]), "category": slug, "lat": f"{lat:.5f}", "lon": f"{lon:.5f}",
                    "radius_km": str(rng.choice([5, 10, 25])), "available": rng.choice(["today", "week"])})
    return out


def one(session: requests.Session, url: str, host: str, params: dict[str, str] | None) -> float:
    """Milliseconds of one GET of ``url`` with ``params``; fails on any non-200."""
    t0 = time.perf_counter()
    resp = session.get(url, params=params, headers={"Host": host})
    took = (time.perf_counter() - t0) * 1000
    if resp.status_code != 200:
        raise RuntimeError(f"GET {url} -> {resp.status_code}: {resp.text[:300]}")
    return took


def interleaved(session: requests.Session, floor_url: str, search_url: str, host: str,
                params: list[dict[str, str]], n: int) -> tuple[list[float], list[float]]:
    """Milliseconds of ``n`` GETs of the floor and ``n`` searches (the i-th with ``params[i]``),
    taken in turn, so both see the same load on the machine at the same moments."""
    floor, found = [], []
    for i in range(n):
        floor.append(one(session, floor_url, host, None))
        found.append(one(session, search_url, host, params[i]))
    return floor, found


def main() -> None:
    """Seed, serve, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=300, help="requests per measurement")
    args = parser.parse_args()
    rng = random.Random(2026)
    load_before = os.getloadavg()[0]
    with stack("plaza_search_bench", LOG_LEVEL="WARNING") as st:
        seed_listings(st.owner_dsn)
        port = free_port()
        web = gunicorn("wsgi:app", port)
        try:
            base, host = f"http://127.0.0.1:{port}", f"localhost:{port}"
            session = requests.Session()
            search = f"{base}/api/v1/marketplace/search"
            interleaved(session, f"{base}/healthz", search, host, queries(rng, 50), 50)  # warm-up
            found = [session.get(search, params=q, headers={"Host": host}).json()["total"] for q in queries(rng, 50)]
            floor, searched = interleaved(session, f"{base}/healthz", search, host, queries(rng, args.n), args.n)
            results = {
                "GET /healthz (floor)": floor,
                "GET /api/v1/marketplace/search (text + category + radius + window)": searched,
            }
        finally:
            stop(web)
    floor = statistics.median(results["GET /healthz (floor)"])
    floor_p99 = percentile(results["GET /healthz (floor)"], 99)
    lines = ["| measurement | n | median ms | p99 ms | median / floor median | p99 / floor p99 |",
             "|---|---|---|---|---|---|"]
    for name, vals in results.items():
        med, p99 = statistics.median(vals), percentile(vals, 99)
        lines.append(f"| {name} | {len(vals)} | {med:.2f} | {p99:.2f} | {med / floor:.1f}x | {p99 / floor_p99:.1f}x |")
    table = "\n".join(lines)
    matches = (f"Matches per query: median {statistics.median(found):.0f}, max {max(found)}. Load average "
               f"(1 min) of the machine at the start and the end: {load_before:.1f}, {os.getloadavg()[0]:.1f}.")
    print(table)
    print(matches)
    if args.write:
        record("search", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                         f"`python bench/search.py --write`: {BUSINESSES:,} listings, {REVIEWS:,} reviews "
                         f"(as aggregates). {matches}\n\n{table}")


if __name__ == "__main__":
    main()
