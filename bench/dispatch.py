"""Dispatch now: how fast the dispatch decision is under load, and how far the greedy dispatcher
sends operators compared with the optimal assignment.

1. Latency. Embedded PostgreSQL + Redis, migrated; 1,000 operators online in one city (10
   on-demand businesses x 100 operators, positions uniform over a 20 x 20 km square around
   Midtown Manhattan, kept in Redis as the phones would). Requests arrive open-loop at
   ``--rate`` per second (default 50) at random points of the square; 8 threads serve them in
   this process. Each request is written (one unit of work), then the **dispatch decision** runs
   as the second unit of work and is timed: GEOSEARCH, the candidate query, scoring, the offer
   insert under the partial unique indexes, the request's conditional update, the commit, and
   the after-commit effects (scheduling the lapse job, the Socket.IO emits through Redis). A
   responder thread plays the operators: every 0.2 s it marks offers older than a second as
   accepted and their jobs done, so about 50 operators are busy at any time, as in steady state.

2. A simulated day (no database: the same scoring function). 1,000 operators, 12 hours of
   requests (a morning and an evening peak, about 14,000 requests), batched every 30 s; each
   batch is assigned once greedily in arrival order (each request to the best-scoring free
   operator, as the engine does; also plain nearest-first) and once optimally over the same free
   operators (SciPy's ``linear_sum_assignment`` on the distance matrix). The greedy choice is then
   carried out (operators travel at the ETA speed, work 20–40 minutes, and end up where the
   customer was). Reported: mean customer-operator distance of each, and greedy / optimal.

Run: ``python bench/dispatch.py [--write] [-n 1000] [--rate 50]``.
"""

from __future__ import annotations

import argparse
import math
import queue
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import percentile, record, stack  # noqa: E402

CENTRE = (40.7580, -73.9855)
HALF_KM = 10.0
BUSINESSES, PER_BUSINESS = 10, 100
THREADS = 4
KM_PER_DEG_LAT = 111.32


def random_point(rng: random.Random) -> tuple[float, float]:
    """A uniform point of the 20 x 20 km square around :data:`CENTRE` (lat, lon)."""
    dlat = rng.uniform(-HALF_KM, HALF_KM) / KM_PER_DEG_LAT
    dlon = rng.uniform(-HALF_KM, HALF_KM) / (KM_PER_DEG_LAT * math.cos(math.radians(CENTRE[0])))
    return CENTRE[0] + dlat, CENTRE[1] + dlon


def seed(app, owner_dsn: str, rng: random.Random) -> None:
    """10 on-demand car-wash businesses with 100 online operators each, positions in Redis."""
    import psycopg

    from app.dispatch.locations import put_location
    from app.identity.service import create_user
    from app.redis_client import get_redis
    from app.tenants.service import create_tenant
    from app.uow import unit_of_work

    with app.app_context():
        with unit_of_work():
            owner = create_user("owner@bench.test", "bench-password-123", "Bench Owner")
            tenants = [create_tenant(name=f"Wash {b}", slug=f"wash{b}", timezone="America/New_York", currency="USD",
                                     owner=owner).id for b in range(BUSINESSES)]
        operators = []
        with psycopg.connect(owner_dsn) as conn:
            conn.execute("select set_config('app.platform', 'on', false)")
            for tid in tenants:
                conn.execute("insert into dispatch_profile (tenant_id, enabled, services, updated_at) "
                             "values (%s, true, '{car-wash}', now())", [tid])
                for i in range(PER_BUSINESS):
                    uid, oid = uuid.uuid4(), uuid.uuid4()
                    conn.execute("insert into user_account (id, email, name, is_platform_admin, session_version, "
                                 "created_at) values (%s, %s, %s, false, 1, now())",
                                 [uid, f"op{i}@{tid}.bench", f"Operator {i}"])
                    conn.execute("insert into dispatch_operator (tenant_id, id, user_id, name, online, capacity, "
                                 "active_jobs, completed, updated_at) values (%s, %s, %s, %s, true, 1, 0, %s, now())",
                                 [tid, oid, uid, f"Operator {i}", psycopg.types.json.Jsonb(
                                     {"car-wash": rng.randint(0, 40)})])
                    operators.append((tid, oid))
            conn.commit()
        r = get_redis()
        for tid, oid in operators:
            lat, lon = random_point(rng)
            put_location(r, tid, oid, ["car-wash"], lat, lon, ttl=3600)


def responder(owner_dsn: str, stop: threading.Event) -> None:
    """The operators: accept offers older than a second and finish those jobs at once."""
    import psycopg

    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        while not stop.wait(0.2):
            conn.execute("with taken as (update dispatch_offer set outcome = 'accepted', decided_at = now() "
                         "where outcome = 'live' and offered_at < now() - interval '1 second' returning request_id) "
                         "update dispatch_request set status = 'done', ended_at = now() "
                         "where id in (select request_id from taken)")


def measure_latency(app, owner_dsn: str, n: int, rate: float, rng: random.Random) -> dict[str, list[float]]:
    """Open-loop requests at ``rate``/s; returns ms per request: decision and ask-to-offered."""
    from app.dispatch.engine import offer_next
    from app.dispatch.requests import new_request_row
    from app.extensions import db
    from app.uow import unit_of_work

    points = [random_point(rng) for _ in range(n)]
    work: queue.Queue = queue.Queue()
    decision, total, outcomes = [], [], []
    lock = threading.Lock()
    start = time.perf_counter() + 0.5

    def serve() -> None:
        while True:
            item = work.get()
            if item is None:
                return
            i, due = item
            time.sleep(max(0.0, due - time.perf_counter()))
            with app.app_context():
                try:
                    t0 = time.perf_counter()
                    with unit_of_work():
                        rid = new_request_row(None, "Bench", "car-wash", *points[i]).id
                    t1 = time.perf_counter()
                    with unit_of_work():
                        offer = offer_next(rid)
                    t2 = time.perf_counter()
                finally:
                    db.session.remove()
            with lock:
                decision.append((t2 - t1) * 1000)
                total.append((t2 - due) * 1000 if t0 >= due else (t2 - t0) * 1000)
                outcomes.append(offer is not None)

    threads = [threading.Thread(target=serve, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for i in range(n):
        work.put((i, start + i / rate))
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    offered = sum(outcomes)
    print(f"{offered} of {n} requests got an offer")
    return {"decision": decision, "total": total}


def haversine_matrix(a, b):
    """km between every point of ``a`` (k x 2, degrees) and of ``b`` (m x 2): a k x m array."""
    import numpy as np

    la1, lo1 = np.radians(a[:, 0])[:, None], np.radians(a[:, 1])[:, None]
    la2, lo2 = np.radians(b[:, 0])[None, :], np.radians(b[:, 1])[None, :]
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.minimum(1.0, h)))


def simulate_day(rng: random.Random, operators: int = 1000, hours: int = 12, batch_s: int = 30) -> dict[str, float]:
    """The simulated day (module docstring, part 2); returns mean km of each method and ratios."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from app.dispatch.engine import score
    from app.dispatch.services import CITY_SPEED_KMH

    radius = 25.0
    ops = np.array([random_point(rng) for _ in range(operators)])
    completed = np.array([rng.randint(0, 40) for _ in range(operators)])
    free_at = np.zeros(operators)
    sums = {"greedy": 0.0, "nearest": 0.0, "optimal": 0.0}
    served = 0
    for t in range(0, hours * 3600, batch_s):
        hour = t / 3600
        per_hour = 600 + 900 * math.exp(-((hour - 2.5) ** 2) / 2) + 1100 * math.exp(-((hour - 9.5) ** 2) / 2)
        k = np.random.default_rng(rng.randint(0, 2**31)).poisson(per_hour * batch_s / 3600)
        if k == 0:
            continue
        reqs = np.array([random_point(rng) for _ in range(k)])
        free = np.flatnonzero(free_at <= t)
        if len(free) == 0:
            continue
        dist = haversine_matrix(reqs, ops[free])
        rows, cols = linear_sum_assignment(dist)
        sums["optimal"] += float(dist[rows, cols].sum())
        taken: set[int] = set()
        taken_near: set[int] = set()
        for i in range(k):
            order = [j for j in np.argsort(dist[i]) if j not in taken_near]
            if order:
                taken_near.add(order[0])
                sums["nearest"] += float(dist[i, order[0]])
            best, best_score = None, -1.0
            for j in np.argsort(dist[i])[:30]:
                if j in taken or dist[i, j] > radius:
                    continue
                s = score(float(dist[i, j]), radius, 0, 1, int(completed[free[j]]))
                if s > best_score:
                    best, best_score = j, s
            if best is None:
                continue
            taken.add(best)
            d = float(dist[i, best])
            sums["greedy"] += d
            served += 1
            op = free[best]
            free_at[op] = t + d / CITY_SPEED_KMH * 3600 + rng.uniform(20, 40) * 60
            ops[op] = reqs[i]
            completed[op] += 1
        # The optimal side assigns min(k, free) requests; greedy may leave none unserved either way.
    n = served
    return {"requests": n, "greedy_km": sums["greedy"] / n, "nearest_km": sums["nearest"] / n,
            "optimal_km": sums["optimal"] / n, "ratio": sums["greedy"] / sums["optimal"],
            "nearest_ratio": sums["nearest"] / sums["optimal"]}


def main() -> None:
    """Seed, measure, simulate, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the tables in bench/README.md")
    parser.add_argument("-n", type=int, default=1000, help="requests in the latency run")
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    args = parser.parse_args()
    rng = random.Random(2026)
    with stack("plaza_dispatch_bench", LOG_LEVEL="WARNING") as st:
        from app import create_app

        app = create_app()
        seed(app, st.owner_dsn, rng)
        stop = threading.Event()
        resp = threading.Thread(target=responder, args=(st.owner_dsn, stop), daemon=True)
        resp.start()
        try:
            measure_latency(app, st.owner_dsn, 100, args.rate, rng)  # warm-up
            times = measure_latency(app, st.owner_dsn, args.n, args.rate, rng)
        finally:
            stop.set()
            resp.join(5)
    day = simulate_day(random.Random(2026))
    lines = ["| measurement | n | median ms | p99 ms |", "|---|---|---|---|"]
    for name, key in (("dispatch decision (candidates, score, offer, commit, effects)", "decision"),
                      ("request written -> offered (from its scheduled arrival)", "total")):
        vals = times[key]
        lines.append(f"| {name} | {len(vals)} | {statistics.median(vals):.2f} | {percentile(vals, 99):.2f} |")
    table = "\n".join(lines)
    day_table = "\n".join([
        "| simulated day | requests | mean km | / optimal |", "|---|---|---|---|",
        f"| optimal per batch (linear_sum_assignment) | {day['requests']} | {day['optimal_km']:.3f} | 1.00 |",
        f"| greedy, engine score (proximity, load, expertise) | {day['requests']} | {day['greedy_km']:.3f} | "
        f"{day['ratio']:.2f} |",
        f"| greedy, nearest first | {day['requests']} | {day['nearest_km']:.3f} | {day['nearest_ratio']:.2f} |"])
    print(table)
    print(day_table)
    if args.write:
        record("dispatch", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                           f"`python bench/dispatch.py --write`: {BUSINESSES * PER_BUSINESS:,} online operators, "
                           f"{args.rate:.0f} requests/s open-loop, {THREADS} threads.\n\n{table}\n\n{day_table}")


if __name__ == "__main__":
    main()
