"""Benchmark: availability, booking POST and /healthz on the demo data scaled up.

Scales the demo business ``bella`` to 10 staff and 5,000 bookings, serves Plaza with
gunicorn (2 workers x 8 threads, as ``make run``), and measures from one keep-alive
client on loopback:

- ``GET /healthz`` (floor of the same stack),
- ``GET /api/v1/availability`` for 14 days, "any staff": warm (served from the Redis
  cache) and cold (cache invalidated before every request, so computed from PostgreSQL),
- ``POST /api/v1/bookings`` at distinct free slots;
- the first availability request after a change with the recompute job: an RQ worker
  (``worker.py``) runs, each iteration books a free slot a month out through the API (a change:
  the tenant's availability version is bumped and ``warm_availability`` is queued), waits
  ``--gap-ms`` (the next customer arriving), then times ``GET /api/v1/availability`` for the
  popular range (today and the 13 days after, any staff, the business's zone) and notes whether
  the job had already cached it. The cold row above stays the computation itself. The worker
  listens to the recompute job's own queue only (``python worker.py availability``): the
  scaled demo's past bookings would otherwise be completed by the transitions job meanwhile,
  each completion a change that bumps the version again. A deployment's ``worker.py`` lists
  that queue first, so there the job waits at most for the job already running.

Prints a Markdown table and, with ``--write``, records it in ``bench/README.md``.
Run: ``make bench`` (or ``.venv/bin/python bench/run.py --write``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.catalog.availability_version import WARM_QUEUE  # noqa: E402
from app.devservices import free_port  # noqa: E402
from app.mailcatcher import MailCatcher  # noqa: E402
from bench.harness import ROOT, flask, gunicorn, percentile, record, stack, stop  # noqa: E402

STAFF_TOTAL = 10
BOOKINGS_TOTAL = 5000


def scale_demo(owner_url: str) -> tuple[str, list[str], str]:
    """Give bella 10 staff performing every service and 5,000 bookings; returns (tenant, service ids, staff id)."""
    with psycopg.connect(owner_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        tenant_id = conn.execute("select id from tenant where slug = 'bella'").fetchone()[0]
        conn.execute("update tenant set lead_time_minutes = 0, horizon_days = 365 where id = %s", [tenant_id])
        staff = [r[0] for r in conn.execute("select id from staff_member where tenant_id = %s order by position", [tenant_id])]
        hours = conn.execute("select weekday, start_time, end_time from working_hours where staff_id = %s", [staff[0]]).fetchall()
        for i in range(len(staff), STAFF_TOTAL):
            sid = uuid.uuid4()
            conn.execute("insert into staff_member (tenant_id, id, name, bio, active, position, created_at) "
                         "values (%s, %s, %s, '', true, %s, now())", [tenant_id, sid, f"Bench Stylist {i + 1}", i])
            for wd, s, e in hours:
                conn.execute("insert into working_hours (tenant_id, id, staff_id, weekday, start_time, end_time) "
                             "values (%s, gen_random_uuid(), %s, %s, %s, %s)", [tenant_id, sid, wd, s, e])
            staff.append(sid)
        services = conn.execute("select id, duration_minutes from service where tenant_id = %s "
                                "order by position, name", [tenant_id]).fetchall()
        for svc, _ in services:
            for sid in staff:
                conn.execute("insert into service_staff (tenant_id, service_id, staff_id) values (%s, %s, %s) "
                             "on conflict do nothing", [tenant_id, svc, sid])
        have = conn.execute("select count(*) from booking where tenant_id = %s", [tenant_id]).fetchone()[0]
        if have < BOOKINGS_TOTAL:
            cust = uuid.uuid4()
            conn.execute("insert into customer (tenant_id, id, name, email, created_at) values (%s, %s, 'Bench', %s, now())",
                         [tenant_id, cust, f"bench-{cust.hex[:8]}@example.com"])
            rng = random.Random(7)
            start_day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=60)
            rows = []
            # One 30-minute booking per staff member per hour slot, spread over ~120 days, no overlaps.
            slots = [(d, h, sid) for d in range(120) for h in (8, 9, 10, 11, 13, 14, 15) for sid in staff]
            for d, h, sid in rng.sample(slots, BOOKINGS_TOTAL - have):
                st = start_day + timedelta(days=d, hours=h)
                rows.append((tenant_id, uuid.uuid4(), services[0][0], sid, cust, "confirmed", st, st + timedelta(minutes=30),
                             st, st + timedelta(minutes=30), 0, "DKK", "Europe/Copenhagen", ""))
            with conn.cursor() as cur:
                cur.executemany(
                    "insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, ends_at, "
                    "blocked_from, blocked_until, price_amount, currency, customer_timezone, notes, created_at, updated_at) "
                    "values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s, now(), now()) "
                    "on conflict do nothing", rows)  # the demo already books some of these hours
        conn.execute("analyze")
        return str(tenant_id), [str(s) for s, _ in services], str(staff[0])


def timed(session: requests.Session, method: str, url: str, n: int, host: str, body=None, before=None) -> list[float]:
    """Milliseconds of ``n`` requests; ``body`` may be a callable(i) giving JSON; fails on any non-2xx."""
    out = []
    for i in range(n):
        if before:
            before()
        payload = body(i) if callable(body) else body
        t0 = time.perf_counter()
        resp = session.request(method, url, json=payload, headers={"Host": host})
        out.append((time.perf_counter() - t0) * 1000)
        if resp.status_code >= 300:
            raise RuntimeError(f"{method} {url} -> {resp.status_code}: {resp.text[:300]}")
    return out


def main() -> None:
    """Set up, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=300, help="requests per measurement")
    parser.add_argument("--gap-ms", type=int, default=250,
                        help="milliseconds between a change and the next availability request (the job's head start)")
    args = parser.parse_args()
    mail = MailCatcher(Path(tempfile.mkdtemp(prefix="plaza-bench-mail-"))).start()  # the worker's emails land here
    try:
        run(args, mail.url)
    finally:
        mail.stop()


def run(args: argparse.Namespace, smtp_url: str) -> None:
    """Measure against a fresh stack whose mail goes to ``smtp_url``; print (and maybe record) the table."""
    with stack("plaza_bench", LOG_LEVEL="WARNING", SMTP_URL=smtp_url) as st:
        flask(["seed-demo"])
        tenant_id, service_ids, staff_id = scale_demo(st.owner_url)
        port = free_port()
        web = gunicorn("wsgi:app", port)
        worker = None
        try:
            results = measure(port, st.redis_url, tenant_id, service_ids, args.n)
            worker = subprocess.Popen([sys.executable, "worker.py", WARM_QUEUE], cwd=ROOT, env=os.environ,
                                      start_new_session=True)
            idle(st.redis_url)
            with psycopg.connect(st.owner_dsn) as conn:
                slot_interval = conn.execute("select slot_interval_minutes from tenant where id = %s",
                                             [tenant_id]).fetchone()[0]
            after, warm_share = after_change(port, st.redis_url, tenant_id, service_ids, args.n, args.gap_ms / 1000,
                                             slot_interval)
            results[f"GET availability 14 days, first request {args.gap_ms} ms after a change, with the "
                    f"recompute job ({warm_share:.0%} found it cached)"] = after
        finally:
            stop(worker, web)
    floor = statistics.median(results["GET /healthz (floor)"])
    lines = ["| measurement | n | median ms | p99 ms | median / floor median |", "|---|---|---|---|---|"]
    for name, vals in results.items():
        med = statistics.median(vals)
        lines.append(f"| {name} | {len(vals)} | {med:.2f} | {percentile(vals, 99):.2f} | {med / floor:.1f}x |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        record("results", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                          f"`python bench/run.py --write`.\n\n{table}")


def measure(port: int, redis_url: str, tenant_id: str, service_ids: list[str], n: int) -> dict[str, list[float]]:
    """Milliseconds per request of each measurement against Plaza on ``port``."""
    base, host = f"http://127.0.0.1:{port}", f"bella.localhost:{port}"
    session = requests.Session()
    import redis

    r = redis.Redis.from_url(redis_url)
    today = datetime.now(UTC).date()
    avail = (f"{base}/api/v1/availability?service_id={service_ids[0]}&start={today + timedelta(days=1)}"
             f"&end={today + timedelta(days=14)}&tz=Europe/Copenhagen")
    timed(session, "GET", f"{base}/healthz", 50, host)
    timed(session, "GET", avail, 20, host)  # warm-up
    results = {
        "GET /healthz (floor)": timed(session, "GET", f"{base}/healthz", n, host),
        "GET availability 14 days, warm cache": timed(session, "GET", avail, n, host),
        "GET availability 14 days, cold (computed)": timed(
            session, "GET", avail, n, host, before=lambda: r.incr(f"plaza:t:{tenant_id}:avail:version")),
    }
    free = session.get(avail.replace(str(today + timedelta(days=1)), str(today + timedelta(days=30)))
                       .replace(str(today + timedelta(days=14)), str(today + timedelta(days=60))),
                       headers={"Host": host}).json()["slots"]
    # Distinct, non-overlapping slots: per staff member, starts at least 2 hours apart.
    last: dict[str, datetime] = {}
    chosen = []
    for slot in free:
        start = datetime.fromisoformat(slot["start"])
        prev = last.get(slot["staff_id"])
        if prev is None or start - prev >= timedelta(hours=2):
            last[slot["staff_id"]] = start
            chosen.append(slot)
    n_book = min(n, len(chosen))
    results["POST /api/v1/bookings"] = timed(session, "POST", f"{base}/api/v1/bookings", n_book, host, body=lambda i: {
        "service_id": service_ids[0], "staff_id": chosen[i]["staff_id"], "start": chosen[i]["start"],
        "customer": {"name": f"Bench {i}", "email": f"bench{i}@example.com"}})
    return results


def after_change(port: int, redis_url: str, tenant_id: str, service_ids: list[str], n: int, gap: float,
                 slot_interval: int) -> tuple[list[float], float]:
    """Milliseconds of the first popular-range availability request ``gap`` seconds after each of ``n``
    changes (a booking through the API), with a worker running the recompute job; and the share of
    requests that found the answer already cached (checked in Redis just before each request)."""
    import redis

    from app.scheduling.cache import entry_key

    base, host = f"http://127.0.0.1:{port}", f"bella.localhost:{port}"
    session = requests.Session()
    r = redis.Redis.from_url(redis_url)
    tz = "Europe/Copenhagen"
    today = datetime.now(ZoneInfo(tz)).date()
    first, last = today, today + timedelta(days=13)
    popular = (f"{base}/api/v1/availability?service_id={service_ids[0]}&start={first}&end={last}&tz={tz}")
    changes = free_slots_per_staff(session, base, host, service_ids[0], today + timedelta(days=30), n)
    times, warm = [], 0
    version_before = int(r.get(f"plaza:t:{tenant_id}:avail:version") or 0)
    for i, (staff, start) in enumerate(changes):
        resp = session.post(f"{base}/api/v1/bookings", headers={"Host": host}, json={
            "service_id": service_ids[0], "staff_id": staff, "start": start,
            "customer": {"name": f"Change {i}", "email": f"change{i}@example.com"}})
        if resp.status_code >= 300:
            raise RuntimeError(f"POST /api/v1/bookings -> {resp.status_code}: {resp.text[:300]}")
        time.sleep(gap)
        version = int(r.get(f"plaza:t:{tenant_id}:avail:version") or 0)
        key = entry_key(tenant_id, version, ("doc.v2", service_ids[0], "any", first.isoformat(), last.isoformat(),
                                             str(slot_interval), tz))
        warm += bool(r.exists(key))
        times += timed(session, "GET", popular, 1, host)
    idle(redis_url)
    bumps = int(r.get(f"plaza:t:{tenant_id}:avail:version") or 0) - version_before
    print(f"{len(changes)} changes bumped the version {bumps} times", file=sys.stderr)
    return times, warm / max(1, len(times))


def idle(redis_url: str) -> None:
    """Wait until the worker has started and has no recompute job queued."""
    from redis import Redis
    from rq import Queue, Worker

    conn = Redis.from_url(redis_url)
    warm = Queue(WARM_QUEUE, connection=conn)
    while not Worker.all(connection=conn):
        time.sleep(0.1)
    while warm.count:
        time.sleep(0.1)


def free_slots_per_staff(session: requests.Session, base: str, host: str, service_id: str, start: date,
                         n: int) -> list[tuple[str, str]]:
    """``n`` free ``(staff_id, start)`` slots from ``start`` on, at least two hours apart per staff member."""
    staff = session.get(f"{base}/api/v1/staff", headers={"Host": host}).json()["staff"]
    out: list[tuple[str, str]] = []
    for member in staff:
        slots = session.get(f"{base}/api/v1/availability?service_id={service_id}&staff_id={member['id']}"
                            f"&start={start}&end={start + timedelta(days=45)}", headers={"Host": host}).json()["slots"]
        prev = None
        for slot in slots:
            when = datetime.fromisoformat(slot["start"])
            if prev is None or when - prev >= timedelta(hours=2):
                out.append((member["id"], slot["start"]))
                prev = when
    if len(out) < n:
        raise RuntimeError(f"only {len(out)} free slots for {n} changes")
    random.Random(3).shuffle(out)
    return out[:n]


if __name__ == "__main__":
    main()
