"""Benchmark: the console's KPI dashboard (``GET /admin/metrics``) with 1,000 businesses and
1,000,000 bookings, against the ``/healthz`` floor measured in the same run.

Businesses (with a staff member, a service and 200 customers each) and their bookings (1,000
per business over the last 365 days, three a day, 5% cancelled and 3% no-shows) are written
with SQL; the rollups are then built by the real code (``flask metrics recompute --days 365``,
timed). The page is read as a platform admin for the last 30 days and for the whole year, each
compared with the period before, as the console does. Served by gunicorn (2 workers x 8
threads) on loopback with one keep-alive client.

Target (issue 12): the dashboard renders in under 300 ms.

    python bench/metrics.py [--write] [-n 100]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.devservices import free_port  # noqa: E402
from bench.harness import flask, gunicorn, percentile, record, stack, stop  # noqa: E402

BUSINESSES = 1_000
BOOKINGS_PER_BUSINESS = 1_000
CUSTOMERS_PER_BUSINESS = 200
ADMIN = "bench-admin@example.com"
PASSWORD = "bench admin password 2026"
CITIES = [("Copenhagen", "DK", 55.6761, 12.5683, "DKK"), ("London", "GB", 51.5074, -0.1278, "GBP"),
          ("New York", "US", 40.7128, -74.0060, "USD"), ("Aarhus", "DK", 56.1629, 10.2039, "DKK"),
          ("Manchester", "GB", 53.4808, -2.2426, "GBP")]

SEED_SQL = [
    """insert into tenant (id, slug, name, timezone, currency, category, city, country, latitude, longitude,
                           lead_time_minutes, horizon_days, slot_interval_minutes, requires_confirmation,
                           cancellation_cutoff_hours, public_bookings_per_hour, created_at)
       select md5('t' || i)::uuid, 'biz-' || i, 'Business ' || i, 'UTC', c.currency, '', c.city, c.country,
              c.lat + (i %% 17) * 0.003, c.lon + (i %% 13) * 0.003, 60, 60, 15, false, 24, 60,
              now() - make_interval(days => i %% 400)
         from generate_series(1, %(n)s) i
         join (values {cities}) as c(k, city, country, lat, lon, currency) on c.k = i %% 5""",
    """insert into staff_member (tenant_id, id, name, bio, active, position, created_at)
       select id, md5('s' || id)::uuid, 'Staff of ' || name, '', true, 0, now() from tenant""",
    """insert into working_hours (tenant_id, id, staff_id, weekday, start_time, end_time)
       select t.id, md5('w' || t.id || d)::uuid, md5('s' || t.id)::uuid, d, '08:00', '18:00'
         from tenant t cross join generate_series(0, 6) d""",
    """insert into service (tenant_id, id, name, description, category, duration_minutes, price_amount, currency,
                            buffer_before_minutes, buffer_after_minutes, active, position, created_at)
       select id, md5('v' || id)::uuid, 'Visit', '', '', 60, 40000, currency, 0, 0, true, 0, now() from tenant""",
    """insert into customer (tenant_id, id, name, created_at)
       select t.id, md5('c' || t.id || k)::uuid, 'Customer ' || k, now()
         from tenant t cross join generate_series(0, %(customers)s - 1) k""",
    """insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, ends_at,
                            blocked_from, blocked_until, price_amount, currency, customer_timezone, notes, source,
                            created_at, updated_at)
       select t.id, gen_random_uuid(), md5('v' || t.id)::uuid, md5('s' || t.id)::uuid,
              md5('c' || t.id || (b * 7 %% %(customers)s))::uuid,
              case when b %% 20 = 0 then 'cancelled' when b %% 33 = 0 then 'no_show' else 'completed' end,
              s.at, s.at + interval '1 hour', s.at, s.at + interval '1 hour',
              40000, t.currency, 'UTC', '', case when b %% 3 = 0 then 'phone' else 'online' end, s.at, s.at
         from tenant t cross join generate_series(0, %(per)s - 1) b
         cross join lateral (select date_trunc('day', now()) - make_interval(days => 1 + b %% 365)
                                    + make_interval(hours => 9 + 2 * (b / 365)) as at) s""",
]


def seed(dsn: str) -> int:
    """Write the businesses, their staff, services, customers and bookings as the owner."""
    cities = ", ".join(f"({k}, '{c}', '{cc}', {lat}, {lon}, '{cur}')" for k, (c, cc, lat, lon, cur) in enumerate(CITIES))
    params = {"n": BUSINESSES, "customers": CUSTOMERS_PER_BUSINESS, "per": BOOKINGS_PER_BUSINESS}
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("select set_config('app.platform', 'on', false)")
        for sql in SEED_SQL:
            cur.execute(sql.replace("{cities}", cities), params)
        cur.execute("analyze")
        return cur.execute("select count(*) from booking").fetchone()[0]


def make_admin() -> None:
    """A platform admin with a password (the bench logs in through the login form)."""
    from app import create_app
    from app.extensions import db
    from app.identity.service import create_user
    from app.uow import unit_of_work

    with create_app().app_context(), unit_of_work():
        create_user(ADMIN, PASSWORD, "Bench admin").is_platform_admin = True
        db.session.flush()


def login(session: requests.Session, base: str, host: str) -> None:
    """Sign in as :data:`ADMIN` through ``/login``."""
    page = session.get(f"{base}/login", headers={"Host": host}).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    resp = session.post(f"{base}/login", data={"csrf_token": token, "email": ADMIN, "password": PASSWORD},
                        headers={"Host": host, "Referer": f"http://{host}/login"}, allow_redirects=False)
    if resp.status_code not in (302, 303):
        raise RuntimeError(f"login failed: {resp.status_code}")


def timed(session: requests.Session, url: str, host: str, params: dict | None, n: int) -> list[float]:
    """Milliseconds of ``n`` GETs of ``url``; fails on any non-200."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        resp = session.get(url, params=params, headers={"Host": host})
        out.append((time.perf_counter() - t0) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(f"GET {url} -> {resp.status_code}: {resp.text[:300]}")
    return out


def main() -> None:
    """Seed, roll up, serve, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=100, help="requests per measurement")
    args = parser.parse_args()
    with stack("plaza_metrics_bench", LOG_LEVEL="WARNING") as st:
        t0 = time.perf_counter()
        bookings = seed(st.owner_dsn)
        seeded = time.perf_counter() - t0
        t0 = time.perf_counter()
        flask(["metrics", "recompute", "--days", "366"])
        rolled = time.perf_counter() - t0
        with psycopg.connect(st.owner_dsn) as conn:
            conn.execute("select set_config('app.platform', 'on', false)")
            rows = conn.execute("select count(*), sum(bookings) from metrics_business_day").fetchone()
        print(f"seeded {bookings:,} bookings in {seeded:.0f} s; rollups: {rows[0]:,} rows covering {rows[1]:,} "
              f"bookings in {rolled:.0f} s")
        make_admin()
        port = free_port()
        web = gunicorn("wsgi:app", port)
        try:
            base, host = f"http://127.0.0.1:{port}", f"localhost:{port}"
            session = requests.Session()
            login(session, base, host)
            today = date.today()
            year = {"from": date.fromordinal(today.toordinal() - 365).isoformat(), "to": today.isoformat()}
            timed(session, f"{base}/admin/metrics", host, None, 10)  # warm-up
            results = {
                "GET /healthz (floor)": timed(session, f"{base}/healthz", host, None, args.n),
                "GET /admin/metrics, last 30 days vs the 30 before": timed(session, f"{base}/admin/metrics", host,
                                                                            None, args.n),
                "GET /admin/metrics, last 365 days vs the 365 before": timed(session, f"{base}/admin/metrics", host,
                                                                              year, args.n),
            }
        finally:
            stop(web)
    lines = ["| measurement | n | median ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    for name, vals in results.items():
        lines.append(f"| {name} | {len(vals)} | {statistics.median(vals):.2f} | {percentile(vals, 99):.2f} | "
                     f"{max(vals):.2f} |")
    table = "\n".join(lines)
    setup = (f"{BUSINESSES:,} businesses, {bookings:,} bookings; rollups ({rows[0]:,} business-day rows) built by "
             f"`flask metrics recompute --days 366` in {rolled:.0f} s.")
    print(table)
    if args.write:
        record("metrics", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                          f"`python bench/metrics.py --write`: {setup}\n\n{table}")


if __name__ == "__main__":
    main()
