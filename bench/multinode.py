"""Multi-node load test: two web processes and two workers on one PostgreSQL and one Redis,
loaded by Locust with customers browsing, reading availability, booking and chatting.

Set-up: embedded PostgreSQL and Redis (:func:`bench.harness.stack`), the demo data
(``flask seed-demo``: bella, fixit, the marketplace's sixty businesses, the search read model),
customer accounts each holding a booking at bella and its conversation with bella's owner, a
local SMTP server collecting every message, two gunicorn web processes (one gthread worker of
100 threads each, as the Procfile; Flask-SocketIO with Redis as its message queue) and two
``worker.py`` processes. Locust (headless, on loopback, :mod:`bench.locustfile`) then runs
``--users`` users for ``--minutes``: half of them on each web process.

After the run, with the workers given a bounded time to drain, it checks and reports:

- 0 errors: no failed request (5xx, unexpected status, exception) or Socket.IO operation in
  Locust's statistics, no traceback in the web processes' or workers' logs, no failed job;
- no double booking: no two live bookings of one staff member overlap (SQL over ``booking``);
- every answered booking is stored, and every confirmed booking made by the load got its
  confirmation email exactly once at the SMTP server;
- p99 (and median, p95, max) per endpoint, as a Markdown table.

Run: ``.venv/bin/python bench/multinode.py [--minutes 3] [--users 40] [--write]`` (``--write``
records the table in ``bench/README.md``, section "Multi-node load"). ``tests/scale/test_multinode.py``
runs the same check for about a minute with fewer users.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.devservices import free_port, wait_port  # noqa: E402
from tests.support.conftest_mail import Mailbox, running_mailbox  # noqa: E402
from tests.support.servers import stop  # noqa: E402

BUSINESSES = ("bella", "fixit")
QUERIES = ("hair", "cut", "handyman", "massage", "nails", "repair", "colour", "barber")
#: Live statuses: those the exclusion constraint ``booking_no_overlap`` covers.
LIVE = ("pending", "confirmed", "awaiting_payment")


# --------------------------------------------------------------------------- seeding


def seed(app: Any, pairs: int, *, full: bool) -> dict[str, Any]:
    """Load the demo data (``full``: ``flask seed-demo`` with the marketplace; otherwise only
    bella, fixit and the search read model, in this process) and create ``pairs`` chat pairs;
    returns the world Locust reads (:mod:`bench.locustfile`), its ``ports`` still empty."""
    import sqlalchemy as sa

    from app.catalog.models import Service
    from app.cli import BELLA, seed_demo
    from app.extensions import db
    from app.marketplace.tasks import reindex_all
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant
    from app.uow import unit_of_work

    with app.app_context():
        if full:
            subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"], cwd=ROOT, check=True,
                           capture_output=True)
        else:
            with unit_of_work():
                seed_demo()
            reindex_all()
        businesses = []
        for slug in BUSINESSES:
            tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))
            with tenant_scope(tenant.id):
                services = db.session.scalars(sa.select(Service.id).where(Service.active.is_(True))
                                              .order_by(Service.position)).all()
            businesses.append({"slug": slug, "timezone": tenant.timezone, "service_ids": [str(s) for s in services]})
        chat = chat_pairs(app, pairs, BELLA["owner"])
        db.session.remove()
    return {"ports": [], "businesses": businesses, "queries": list(QUERIES), "run": uuid.uuid4().hex[:8],
            "chat": chat}


def chat_pairs(app: Any, pairs: int, staff_email: str) -> list[dict[str, str]]:
    """``pairs`` customer accounts, each with a confirmed booking at bella 30+ days ahead and its
    conversation; per pair the ids and both session cookies (customer; ``staff_email``)."""
    import sqlalchemy as sa

    from app.booking.errors import SlotUnavailable
    from app.booking.service import CustomerInput, create_booking
    from app.catalog.models import Service
    from app.chat.service import conversation_for_booking
    from app.extensions import db
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant
    from app.timeutil import utcnow
    from tests.factories import make_user
    from tests.support.chat_fixtures import session_cookie

    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "bella"))
    tz = ZoneInfo(tenant.timezone)
    first_day = (utcnow() + timedelta(days=30)).astimezone(tz).date()
    starts = (datetime.combine(first_day + timedelta(days=d), clock(h), tz) for d in range(60) for h in range(9, 18))
    staff_cookie = session_cookie(app, staff_email)
    out = []
    for i in range(pairs):
        email = f"chat{i}-{uuid.uuid4().hex[:6]}@load.test"
        user_id = make_user(email, name=f"Chat Customer {i}")
        with tenant_scope(tenant.id):
            service_id = db.session.scalar(sa.select(Service.id).where(Service.active.is_(True))
                                           .order_by(Service.position))
            for start in starts:
                try:
                    booking = create_booking(tenant, service_id=service_id, staff_id=None, start=start,
                                             customer=CustomerInput(f"Chat Customer {i}", email),
                                             customer_timezone=tenant.timezone, user_id=user_id)
                    break
                except SlotUnavailable:
                    db.session.rollback()
            conv = conversation_for_booking(booking.id)
            db.session.commit()
            out.append({"tenant_id": str(tenant.id), "slug": "bella", "conversation_id": str(conv.id),
                        "customer": session_cookie(app, email), "staff": staff_cookie})
    return out


# --------------------------------------------------------------------------- the cluster


@dataclass
class Cluster:
    """Two web processes and two workers; ``logs`` holds each one's output file."""

    ports: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, argv: list[str], env: Mapping[str, str], log: Path, port: int | None = None) -> None:
        """Start ``argv`` in its own session with its output in ``log``; wait for ``port`` if given.

        Raises:
            RuntimeError: the port did not open within 60 s.
        """
        with log.open("w") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        self.logs.append(log)
        if port is not None:
            wait_port(port, 60)
            self.ports.append(port)


@contextmanager
def cluster(services: Mapping[str, str], smtp_url: str, workdir: Path) -> Iterator[Cluster]:
    """Start two web processes (gunicorn, one gthread worker x 100 threads each, as the Procfile)
    and two ``worker.py`` processes, all on ``services`` and sending mail to ``smtp_url``; stop
    them on exit."""
    env = {**os.environ, **{k: v for k, v in services.items() if k.isupper()}, "SMTP_URL": smtp_url,
           "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING", "RQ_LOG_LEVEL": "WARNING"}
    made = Cluster()
    try:
        for i in range(2):
            port = free_port()
            made.start([sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "100", "-w", "1",
                        "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                       {**env, "PORT": str(port), "PUBLIC_PORT": str(port)}, workdir / f"web{i}.log", port)
        for i in range(2):
            made.start([sys.executable, "worker.py"], env, workdir / f"worker{i}.log")
        yield made
    finally:
        for proc in made.procs:
            stop(proc)


# --------------------------------------------------------------------------- the load


def warm_up(world: dict[str, Any]) -> None:
    """Request every kind of page once from each web process (templates compiled, pools open,
    Socket.IO loaded) so the measured run starts warm.

    Raises:
        RuntimeError: a warm-up request failed.
    """
    import requests

    with requests.Session() as http:
        for port in world["ports"]:
            biz = world["businesses"][0]
            day = (datetime.now().date() + timedelta(days=1)).isoformat()
            for host, path in [(biz["slug"], "/"), (biz["slug"], f"/book/{biz['service_ids'][0]}"),
                               (biz["slug"], f"/api/v1/availability?service_id={biz['service_ids'][0]}&start={day}&end={day}"),
                               ("", "/search?q=hair"), ("", "/api/v1/marketplace/search?q=hair"),
                               ("", "/socket.io/?EIO=4&transport=polling")]:
                name = f"{host}.localhost:{port}" if host else f"localhost:{port}"
                resp = http.get(f"http://127.0.0.1:{port}{path}", headers={"Host": name}, timeout=120)
                if resp.status_code != 200:
                    raise RuntimeError(f"warm-up GET {name}{path}: {resp.status_code} {resp.text[:300]}")


def run_locust(world_path: Path, workdir: Path, users: int, seconds: int) -> dict[str, Any]:
    """Run Locust headless for ``seconds`` with ``users`` users (spawned over about a tenth of
    the run); returns the outcome the scenario wrote (:data:`bench.locustfile.OUTCOME`) with its
    ``stats`` rows (Locust's ``*_stats.csv``) and ``exceptions`` (rows of ``*_exceptions.csv``).

    Raises:
        RuntimeError: Locust did not finish within the run time plus 90 s.
    """
    out = workdir / "outcome.json"
    prefix = workdir / "locust"
    spawn_rate = max(1.0, users / max(1.0, seconds / 10))
    env = {**os.environ, "MULTINODE_WORLD": str(world_path), "MULTINODE_OUT": str(out)}
    argv = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
            "--users", str(users), "--spawn-rate", f"{spawn_rate:.2f}", "--run-time", f"{seconds}s",
            "--stop-timeout", "15", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
            "--exit-code-on-error", "0", "--host", "http://localhost"]
    with (workdir / "locust.log").open("w") as log:
        try:
            subprocess.run(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 90,
                           check=True)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"Locust did not finish; see {workdir / 'locust.log'}") from exc
    outcome = json.loads(out.read_text())
    with open(f"{prefix}_stats.csv") as fh:
        outcome["stats"] = list(csv.DictReader(fh))
    with open(f"{prefix}_exceptions.csv") as fh:
        outcome["exceptions"] = list(csv.DictReader(fh))
    with open(f"{prefix}_failures.csv") as fh:
        outcome["failures"] = list(csv.DictReader(fh))
    return outcome


# --------------------------------------------------------------------------- the checks


def double_bookings(owner_dsn: str) -> list[tuple[Any, ...]]:
    """Pairs of live bookings of one staff member whose blocked times overlap (should be none)."""
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        return overlapping(conn)


def overlapping(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """On an owner connection: ``(tenant_id, staff_id, booking id, booking id)`` of every two live
    bookings of one staff member whose blocked times overlap."""
    conn.execute("select set_config('app.platform', 'on', false)")
    return conn.execute(
        "select a.tenant_id, a.staff_id, a.id, b.id from booking a join booking b "
        "on a.tenant_id = b.tenant_id and a.staff_id = b.staff_id and a.id < b.id "
        "and tstzrange(a.blocked_from, a.blocked_until) && tstzrange(b.blocked_from, b.blocked_until) "
        "where a.status = any(%s) and b.status = any(%s)", [list(LIVE), list(LIVE)]).fetchall()


def load_bookings(owner_dsn: str, run: str) -> dict[str, tuple[str, str]]:
    """The bookings the load made (customer email tagged with ``run``): id -> (status, email)."""
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        rows = conn.execute("select b.id, b.status, c.email from booking b join customer c "
                            "on c.tenant_id = b.tenant_id and c.id = b.customer_id where c.email like %s",
                            [f"load-{run}-%"]).fetchall()
    return {str(i): (s, e) for i, s, e in rows}


def failed_jobs(redis_url: str) -> int:
    """Jobs in the queue's failed-job registry."""
    from redis import Redis
    from rq import Queue
    from rq.registry import FailedJobRegistry

    from app.jobs.runner import QUEUE_NAME

    return FailedJobRegistry(queue=Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))).count


def confirmations(box: Mailbox) -> Counter[str]:
    """Confirmation emails received, per recipient address (``X-Plaza-Kind: confirmed``)."""
    messages = list(box.messages)  # a copy: the server thread appends meanwhile
    return Counter(a.addr_spec for m in messages if m["X-Plaza-Kind"] == "confirmed" for a in m["To"].addresses)


@dataclass
class Report:
    """What the run showed: ``problems`` (empty when every property held), the Markdown
    ``table`` of latencies per endpoint and the ``summary`` lines."""

    problems: list[str] = field(default_factory=list)
    table: str = ""
    summary: list[str] = field(default_factory=list)
    #: ``booked`` (201 answers), ``conflicts`` (409), ``confirmed`` (confirmation emails expected),
    #: ``chat_received`` (messages received on the other process), ``requests`` (all, from Locust).
    counts: dict[str, int] = field(default_factory=dict)
    #: Endpoint names in Locust's statistics.
    endpoints: list[str] = field(default_factory=list)


def check(outcome: dict[str, Any], owner_dsn: str, redis_url: str, box: Mailbox, run: str, logs: list[Path],
          drain_seconds: float = 90.0) -> Report:
    """Check the run's properties (waiting at most ``drain_seconds`` for the confirmations)."""
    report = Report()
    total = next(r for r in outcome["stats"] if r["Name"] == "Aggregated")
    if int(total["Failure Count"]):
        report.problems.append(f"{total['Failure Count']} failed requests: "
                               + "; ".join(f"{f['Method']} {f['Name']}: {f['Error']} x{f['Occurrences']}"
                                           for f in outcome["failures"]))
    if outcome["exceptions"]:
        report.problems.append(f"{len(outcome['exceptions'])} exceptions in the scenario: "
                               + "; ".join(e["Message"] for e in outcome["exceptions"]))
    if outcome["late_booked"]:
        report.problems.append(f"{outcome['late_booked']} requests for a slot just booked were booked too")
    stored = load_bookings(owner_dsn, run)
    missing = [b["id"] for b in outcome["booked"] if b["id"] not in stored]
    if missing:
        report.problems.append(f"{len(missing)} bookings answered 201 are not stored: {missing[:5]}")
    if overlaps := double_bookings(owner_dsn):
        report.problems.append(f"{len(overlaps)} double bookings: {overlaps[:5]}")
    wanted = {email for status, email in stored.values() if status == "confirmed"}
    box.wait_until(lambda: wanted <= set(confirmations(box)), drain_seconds)
    time.sleep(3)  # a duplicate would arrive right behind the first
    got = confirmations(box)
    unsent = sorted(wanted - set(got))
    twice = sorted(e for e in wanted if got[e] > 1)
    if unsent:
        report.problems.append(f"{len(unsent)} of {len(wanted)} confirmations not sent within {drain_seconds:.0f} s")
    if twice:
        report.problems.append(f"{len(twice)} confirmations sent more than once: {twice[:5]}")
    if failed := failed_jobs(redis_url):
        report.problems.append(f"{failed} failed jobs in the worker queue")
    for log in logs:
        text = log.read_text() if log.exists() else ""
        if "Traceback" in text:
            report.problems.append(f"traceback in {log.name}: {text[text.index('Traceback'):][:600]}")
    statuses = Counter(status for status, _ in stored.values())
    report.summary = [
        f"bookings answered 201: {len(outcome['booked'])} (stored: {len(stored)}, "
        + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + f"); 409 conflicts (expected): "
        f"{outcome['conflicts']}; double bookings: {len(overlaps)}",
        f"confirmation emails: {sum(got[e] for e in wanted)} for {len(wanted)} confirmed bookings "
        f"(missing {len(unsent)}, more than once {len(twice)})",
        f"chat messages: {outcome['chat_sent']} sent, {outcome['chat_received']} received by the other process",
        f"failed requests: {total['Failure Count']} of {total['Request Count']}; failed jobs: {failed}",
    ]
    report.table = stats_table(outcome["stats"])
    report.counts = {"booked": len(outcome["booked"]), "conflicts": outcome["conflicts"], "confirmed": len(wanted),
                     "chat_received": outcome["chat_received"], "requests": int(total["Request Count"])}
    report.endpoints = [r["Name"] for r in outcome["stats"] if r["Name"] != "Aggregated"]
    return report


def stats_table(rows: list[dict[str, str]]) -> str:
    """Locust's statistics as a Markdown table: per endpoint count, failures, median, p95, p99, max (ms)."""
    lines = ["| endpoint | type | requests | failures | median ms | p95 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["Name"] == "Aggregated", r["Type"], r["Name"])):
        lines.append(f"| {r['Name']} | {r['Type'] or 'all'} | {r['Request Count']} | {r['Failure Count']} | "
                     f"{r['50%']} | {r['95%']} | {r['99%']} | {float(r['Max Response Time']):.0f} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the whole run


def load_test(app: Any, services: Mapping[str, str], owner_dsn: str, workdir: Path, *, users: int, seconds: int,
              full_seed: bool, progress: Callable[[str], None] = lambda _: None) -> Report:
    """Seed, start the cluster and the SMTP server, run Locust, check; returns the report."""
    with ExitStack() as stack:
        box = stack.enter_context(running_mailbox())
        progress("seeding")
        world = seed(app, pairs=max(2, users // 4), full=full_seed)
        progress("starting two web processes and two workers")
        made = stack.enter_context(cluster(services, box.url, workdir))
        world["ports"] = made.ports
        world_path = workdir / "world.json"
        world_path.write_text(json.dumps(world))
        warm_up(world)
        progress(f"Locust: {users} users for {seconds} s")
        outcome = run_locust(world_path, workdir, users, seconds)
        progress("checking (waiting for the workers to drain)")
        return check(outcome, owner_dsn, services["REDIS_URL"], box, world["run"], made.logs)


def main() -> None:
    """Parse the arguments, run, print (and optionally record) the results; exit 1 on a problem."""
    import tempfile

    from bench.harness import record, stack

    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=3.0, help="duration of the load")
    parser.add_argument("--users", type=int, default=40, help="Locust users (half on each web process)")
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("--light", action="store_true", help="seed bella and fixit only (no marketplace)")
    parser.add_argument("--workdir", help="keep the logs, Locust's CSV files and the world here")
    args = parser.parse_args()
    seconds = round(args.minutes * 60)
    started = time.monotonic()
    with stack("plaza_bench_multinode") as st, tempfile.TemporaryDirectory(prefix="multinode-") as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        from app import create_app

        report = load_test(create_app(), st.env, st.owner_dsn, workdir, users=args.users, seconds=seconds,
                           full_seed=not args.light, progress=lambda s: print(f"[{time.monotonic() - started:5.0f} s] {s}",
                                                                               flush=True))
    verdict = "all properties held" if not report.problems else "PROBLEMS: " + " | ".join(report.problems)
    text = "\n".join([
        f"Recorded {time.strftime('%Y-%m-%d')} with `python bench/multinode.py --minutes {args.minutes:g} "
        f"--users {args.users} --write`: {args.users} Locust users for {seconds} s against two web processes "
        "and two workers, everything on this 2-core machine.",
        "", report.table, "", *[f"- {line}" for line in report.summary], f"- verdict: {verdict}"])
    print(text)
    if args.write:
        record("multinode", text)
    if report.problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
