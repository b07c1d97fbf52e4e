"""Benchmark: bookings under concurrency, against the raw insert floor of the same database.

Scales the demo business ``bella`` to 10 staff and 5,000 bookings (as ``bench/run.py``), serves
Plaza with gunicorn (2 workers x 8 threads, as ``make run``), and measures in one run:

- **Plaza**: 16 client threads, each with its own keep-alive connection, POSTing
  ``/api/v1/bookings`` (a new guest each time) at distinct free slots taken from the availability
  API beforehand (per staff member, starts at least two hours apart) and dealt out round-robin,
  so no two requests compete for a slot: validation, the availability check, the insert under
  the exclusion constraint, event and outbox rows, the commit.
- **Floor**: 16 threads on the same PostgreSQL, each on its own connection as the app role, doing
  per booking what the database must do at the least: ``BEGIN``, the app's transaction-local
  tenant settings (``app.tenants.rls.RLS_SQL``), one ``INSERT INTO booking`` of a valid row (the
  exclusion constraint checked), ``COMMIT``; at non-overlapping times past every other booking.

Reports both throughputs (bookings/s), their ratio (target: Plaza at least 25% of the floor),
median and p99 latency, and the number of answers that were not 201 (target: no 5xx). Prints a
Markdown table and, with ``--write``, records it in ``bench/README.md``.

Run: ``.venv/bin/python bench/bookings.py --write`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.devservices import free_port  # noqa: E402
from bench.harness import flask, gunicorn, percentile, record, stack, stop  # noqa: E402
from bench.run import scale_demo  # noqa: E402

CLIENTS = 16


def free_slots(port: int, service_id: str, count: int) -> list[dict]:
    """``count`` free slots of ``service_id`` (any staff) 30+ days ahead, per staff member at least
    two hours apart, from Plaza's availability API."""
    base, host = f"http://127.0.0.1:{port}", f"bella.localhost:{port}"
    today = datetime.now(UTC).date()
    chosen: list[dict] = []
    last: dict[str, datetime] = {}
    first = 30
    while len(chosen) < count and first < 300:
        resp = requests.get(f"{base}/api/v1/availability", headers={"Host": host}, params={
            "service_id": service_id, "start": str(today + timedelta(days=first)),
            "end": str(today + timedelta(days=first + 13)), "tz": "Europe/Copenhagen"}, timeout=60)
        resp.raise_for_status()
        for slot in resp.json()["slots"]:
            start = datetime.fromisoformat(slot["start"])
            prev = last.get(slot["staff_id"])
            if prev is None or start - prev >= timedelta(hours=2):
                last[slot["staff_id"]] = start
                chosen.append(slot)
        first += 14
    return chosen[:count]


def run_threads(work: list[list], do) -> tuple[list[float], Counter, float]:
    """Run ``do(items)`` for each thread's list in ``work`` at once; returns the latencies (ms),
    the outcome counts and the wall-clock seconds from the common start to the last finish."""
    latencies: list[float] = []
    outcomes: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(work) + 1)

    def thread(items: list) -> None:
        mine, seen = [], Counter()
        step = do(seen)
        barrier.wait()
        for item in items:
            t0 = time.perf_counter()
            step(item)
            mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)
            outcomes.update(seen)

    threads = [threading.Thread(target=thread, args=(items,)) for items in work]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return latencies, outcomes, time.perf_counter() - t0


def plaza(port: int, service_id: str, slots: list[dict]) -> tuple[list[float], Counter, float]:
    """POST /api/v1/bookings at ``slots`` from :data:`CLIENTS` threads."""
    base, host = f"http://127.0.0.1:{port}", f"bella.localhost:{port}"

    def client(seen: Counter):
        session = requests.Session()

        def step(slot: dict) -> None:
            guest = uuid.uuid4().hex[:10]
            resp = session.post(f"{base}/api/v1/bookings", headers={"Host": host}, timeout=60, json={
                "service_id": service_id, "staff_id": slot["staff_id"], "start": slot["start"],
                "customer": {"name": f"Guest {guest}", "email": f"g{guest}@example.com"}})
            seen[resp.status_code] += 1

        return step

    return run_threads([slots[i::CLIENTS] for i in range(CLIENTS)], client)


def floor(app_dsn: str, rls: dict[str, str], tenant_id: str, service_id: str, staff: list[str],
          n: int) -> tuple[list[float], Counter, float]:
    """``n`` single-row booking transactions from :data:`CLIENTS` threads, as the app role."""
    from app.tenants.rls import RLS_SQL

    rls_sql = str(RLS_SQL).replace(":t", "%(t)s").replace(":p", "%(p)s").replace(":u", "%(u)s").replace(":q", "%(q)s")
    with psycopg.connect(app_dsn, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(rls_sql, rls)
            customer = uuid.uuid4()
            conn.execute("insert into customer (tenant_id, id, name, email, created_at) "
                         "values (%s, %s, 'Floor', 'floor@example.com', now())", [tenant_id, customer])
    day0 = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=400)
    rows = [(staff[i % len(staff)], day0 + timedelta(hours=i // len(staff))) for i in range(n)]

    def client(seen: Counter):
        conn = psycopg.connect(app_dsn, autocommit=True)

        def step(row: tuple[str, datetime]) -> None:
            staff_id, start = row
            end = start + timedelta(minutes=30)
            with conn.transaction():
                conn.execute(rls_sql, rls)
                conn.execute(
                    "insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, "
                    "ends_at, blocked_from, blocked_until, price_amount, currency, customer_timezone, notes, "
                    "created_at, updated_at) values (%s, %s, %s, %s, %s, 'confirmed', %s, %s, %s, %s, 50000, "
                    "'DKK', 'Europe/Copenhagen', '', now(), now())",
                    [tenant_id, uuid.uuid4(), service_id, staff_id, customer, start, end, start, end])
            seen[201] += 1

        return step

    return run_threads([rows[i::CLIENTS] for i in range(CLIENTS)], client)


def main() -> None:
    """Set up, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=800, help="bookings per measurement")
    args = parser.parse_args()
    with stack("plaza_bench_bookings", LOG_LEVEL="WARNING") as st:
        flask(["seed-demo"])
        tenant_id, service_ids, _ = scale_demo(st.owner_url)
        from app import create_app
        from app.tenants.rls import rls_params

        app = create_app()
        with app.app_context():
            rls = rls_params(uuid.UUID(tenant_id), None, platform=False)
        with psycopg.connect(st.owner_dsn) as conn:
            conn.execute("select set_config('app.platform', 'on', false)")
            staff = [str(r[0]) for r in conn.execute("select id from staff_member where tenant_id = %s", [tenant_id])]
        port = free_port()
        web = gunicorn("wsgi:app", port)
        try:
            slots = free_slots(port, service_ids[0], args.n + 4 * CLIENTS)
            plaza(port, service_ids[0], slots[:4 * CLIENTS])  # warm-up: every thread's connection and caches
            measured = plaza(port, service_ids[0], slots[4 * CLIENTS:])
        finally:
            stop(web)
        base = floor(st.app_url.replace("postgresql+psycopg://", "postgresql://"), rls, tenant_id,
                     service_ids[0], staff, args.n)
    rows = [("raw INSERT INTO booking, one transaction each (floor)", base),
            ("POST /api/v1/bookings through Plaza", measured)]
    floor_rate = len(base[0]) / base[2]
    lines = ["| measurement | clients | bookings | throughput | / floor | median ms | p99 ms | answers |",
             "|---|---|---|---|---|---|---|---|"]
    for name, (lat, outcomes, wall) in rows:
        rate = len(lat) / wall
        answers = ", ".join(f"{code}: {count}" for code, count in sorted(outcomes.items()))
        lines.append(f"| {name} | {CLIENTS} | {len(lat)} | {rate:.0f}/s | {rate / floor_rate:.0%} | "
                     f"{statistics.median(lat):.2f} | {percentile(lat, 99):.2f} | {answers} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        record("bookings", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                           f"`python bench/bookings.py --write`.\n\n{table}")


if __name__ == "__main__":
    main()
