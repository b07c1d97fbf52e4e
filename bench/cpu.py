"""Benchmark: CPU per request of the main endpoints and per booking in the worker, for
``docs/capacity.md``.

Latency on a shared machine measures the machine; CPU time per operation hardly does. This runs
Plaza in-process (Flask's test client, the app's real pools to the embedded PostgreSQL and Redis,
the demo data scaled as ``bench/run.py`` scales it: 10 staff, 5,000 bookings) and reports, per
request, the web process's CPU (``time.process_time()``: every thread of this process) and
PostgreSQL's CPU (user + system time of every server process of the cluster, from
``/proc/<pid>/stat``), then runs the jobs those bookings caused (outbox relay, confirmations
and notifications, with mail to an SMTP catcher in another process) in an in-process RQ
``SimpleWorker`` and reports the worker's and PostgreSQL's CPU per booking. Redis's CPU is not
counted (a few commands per request).

The test client skips gunicorn's HTTP parsing and socket work: add roughly the ``/healthz`` row
of ``bench/README.md`` (its floor) per request for a real process.

Prints a Markdown table; ``--write`` records it in ``bench/README.md`` (``<!-- cpu -->``).
Run: ``.venv/bin/python bench/cpu.py [-n 200] [--write]`` (about two minutes).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.devservices import free_port, wait_port  # noqa: E402
from bench.harness import flask, record, stack, stop  # noqa: E402
from bench.run import scale_demo  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def postgres_cpu(owner_dsn: str) -> float:
    """Seconds of CPU (user + system) used so far by the cluster's server processes alive now
    (backends and background processes, as ``pg_stat_activity`` lists them; the app's pools keep
    their connections, so a backend that exits in the middle of a measurement is rare)."""
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute("select pid from pg_stat_activity")]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICK


class Meter:
    """CPU of this process and of PostgreSQL around ``n`` operations."""

    def __init__(self, owner_dsn: str) -> None:
        self.owner_dsn = owner_dsn
        self.rows: list[tuple[str, int, float, float, float]] = []

    def run(self, name: str, n: int, op: Callable[[int], None], before: Callable[[], None] | None = None) -> None:
        """Run ``op(i)`` for ``i`` in ``range(n)`` (``before()`` first each time, not counted in the
        wall clock) and keep ``name``'s web and database CPU per operation and median wall time."""
        walls = []
        db0, cpu0 = postgres_cpu(self.owner_dsn), time.process_time()
        for i in range(n):
            if before:
                before()
            t0 = time.perf_counter()
            op(i)
            walls.append((time.perf_counter() - t0) * 1000)
        cpu = (time.process_time() - cpu0) * 1000 / n
        db = (postgres_cpu(self.owner_dsn) - db0) * 1000 / n
        self.rows.append((name, n, cpu, db, statistics.median(walls)))

    def table(self) -> str:
        """The Markdown table of every measurement so far."""
        lines = ["| operation | n | app CPU ms / op | PostgreSQL CPU ms / op | median wall ms |",
                 "|---|---|---|---|---|"]
        lines += [f"| {name} | {n} | {cpu:.2f} | {db:.2f} | {wall:.2f} |" for name, n, cpu, db, wall in self.rows]
        return "\n".join(lines)


def ok(resp) -> None:
    """Raise unless ``resp`` (a test-client response) is a success."""
    if resp.status_code >= 300:
        raise RuntimeError(f"{resp.request.method} {resp.request.path} -> {resp.status_code}: {resp.get_data()[:300]}")


def main() -> None:
    """Set up, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=200, help="operations per measurement")
    parser.add_argument("--profile-booking", action="store_true",
                        help="print where the booking POSTs spent their CPU (cProfile on process time, cumulative)")
    parser.add_argument("--profile-worker", action="store_true",
                        help="print where the worker run spent its CPU (cProfile on process time, cumulative)")
    args = parser.parse_args()
    smtp_port = free_port()
    mail_dir = tempfile.mkdtemp(prefix="plaza-cpu-mail-")
    catcher = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from app.mailcatcher import MailCatcher; "
        f"MailCatcher(Path({mail_dir!r}), {smtp_port}).start(); time.sleep(10**6)")],
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_port(smtp_port)
        with stack("plaza_cpu_bench", LOG_LEVEL="WARNING", SMTP_URL=f"smtp://127.0.0.1:{smtp_port}") as st:
            flask(["seed-demo"])
            tenant_id, service_ids, _ = scale_demo(st.owner_url)
            meter = measure(st.owner_dsn, st.redis_url, tenant_id, service_ids, args.n, Path(mail_dir),
                            args.profile_worker, args.profile_booking)
    finally:
        stop(catcher)
    table = meter.table()
    print(table)
    if args.write:
        record("cpu", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                      f"`python bench/cpu.py --write` (in-process; CPU time, not latency).\n\n{table}")


def measure(owner_dsn: str, redis_url: str, tenant_id: str, service_ids: list[str], n: int,
            mail_dir: Path, profile_worker: bool = False, profile_booking: bool = False) -> Meter:
    """CPU per operation of each measurement, in this process (``mail_dir``: the catcher's folder;
    ``profile_worker`` / ``profile_booking``: print where the worker run's / the POSTs' time went)."""
    import redis
    from rq import Queue, SimpleWorker

    from app import create_app
    from app.jobs.runner import QUEUE_NAME, bind_job_app
    from app.outbox.relay import relay_all

    app = create_app()
    bind_job_app(app)
    client = app.test_client()
    r = redis.Redis.from_url(redis_url)
    meter = Meter(owner_dsn)
    tenant = {"base_url": "http://bella.localhost"}
    today = datetime.now(UTC).date()
    avail = (f"/api/v1/availability?service_id={service_ids[0]}&start={today + timedelta(days=1)}"
             f"&end={today + timedelta(days=14)}&tz=Europe/Copenhagen")

    def get(path: str, **kw) -> Callable[[int], None]:
        return lambda _i: ok(client.get(path, **kw))

    for _ in range(30):  # warm-up: pools, caches, templates
        ok(client.get("/healthz", **tenant))
        ok(client.get(avail, **tenant))
        ok(client.get("/", **tenant))
        ok(client.get("/api/v1/marketplace/search?q=hair", base_url="http://localhost"))
    meter.run("GET /healthz (floor)", n, get("/healthz", **tenant))
    meter.run("GET / (a business's storefront page)", n, get("/", **tenant))
    meter.run("GET availability 14 days, warm cache", n, get(avail, **tenant))
    meter.run("GET availability 14 days, cold (computed)", n, get(avail, **tenant),
              before=lambda: r.incr(f"plaza:t:{tenant_id}:avail:version"))
    meter.run("GET /api/v1/marketplace/search (demo data)", n,
              get("/api/v1/marketplace/search?q=hair", base_url="http://localhost"))

    later = avail.replace(str(today + timedelta(days=1)), str(today + timedelta(days=30))).replace(
        str(today + timedelta(days=14)), str(today + timedelta(days=60)))
    free = client.get(later, **tenant).get_json()["slots"]
    last: dict[str, datetime] = {}
    chosen = []
    for slot in free:  # distinct slots: per staff member, starts at least 2 hours apart
        start = datetime.fromisoformat(slot["start"])
        if slot["staff_id"] not in last or start - last[slot["staff_id"]] >= timedelta(hours=2):
            last[slot["staff_id"]] = start
            chosen.append(slot)
    n_book = min(n, len(chosen))
    with app.app_context():  # what seeding and the warm-up caused, so it is not counted below
        relay_all()
    queue = Queue(QUEUE_NAME, connection=r)
    SimpleWorker([queue], connection=r).work(burst=True, logging_level="ERROR")

    def book(i: int) -> None:
        ok(client.post("/api/v1/bookings", **tenant, json={
            "service_id": service_ids[0], "staff_id": chosen[i]["staff_id"], "start": chosen[i]["start"],
            "customer": {"name": f"Bench {i}", "email": f"bench{i}@example.com"}}))

    if profile_booking:
        booking_profiler = cProfile.Profile(time.process_time)
        unprofiled = book

        def book(i: int) -> None:
            booking_profiler.runcall(unprofiled, i)

    meter.run("POST /api/v1/bookings", n_book, book)
    if profile_booking:
        pstats.Stats(booking_profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(
            r"/app/|sqlalchemy/orm/session|flask_limiter|jinja2/environment|werkzeug/test", 60)

    def work(_i: int) -> None:
        with app.app_context():
            relay_all()
        SimpleWorker([queue], connection=r).work(burst=True, logging_level="ERROR")

    if profile_worker:
        profiler = cProfile.Profile(time.process_time)
        original = work

        def work(i: int) -> None:
            profiler.runcall(original, i)

    before = len(list(mail_dir.iterdir()))
    meter.run(f"worker: the jobs of {n_book} bookings (relay, mail, notifications), per booking", 1, work)
    name, _, cpu, db, wall = meter.rows[-1]
    meter.rows[-1] = (name, n_book, cpu / n_book, db / n_book, wall / n_book)
    sent = len(list(mail_dir.iterdir())) - before
    if profile_worker:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(r"/app/|rq/job|jinja2/environment|smtplib", 40)
    print(f"mails delivered to the catcher by the worker run: {sent}", file=sys.stderr)
    return meter


if __name__ == "__main__":
    main()
