"""Benchmark: 10,000 reminders due in the same second, sent by two workers, one killed mid-way.

Sets up 5 businesses (one Danish-speaking) with one staff member and one guest customer per
booking (distinct addresses, some booked in Danish) and 10,000 confirmed bookings whose 24-hour
reminder is due at the same instant ``D``, a few seconds after two ``python worker.py``
processes (RQ ``SimpleWorker``, their periodic schedulers handing due reminders to batch jobs
every second) were started against embedded PostgreSQL and Redis. A local SMTP server
(aiosmtpd in a thread of this process) counts every message per recipient as it accepts it.
Once a quarter of the reminders have arrived, one worker is killed with SIGKILL (its process
group: nothing is cleaned up); the other must finish, including the killed worker's batch once
its leases run out.

Reports whether every reminder arrived, duplicates (recipients who got more than one: must
be 0), the time from ``D`` to the last delivery (target: under 60 s), and throughput. Prints a
Markdown table and, with ``--write``, records it in ``bench/README.md``.

``--processes 2`` gives each worker two processes (``WORKER_PROCESSES``, RQ's worker pool), so
the one left after the kill still uses both cores; killing a worker kills all of its processes.

Run: ``.venv/bin/python bench/reminders.py --write [--processes 2]`` (about 5-8 minutes at 10,000; gives up 8 minutes after the workers start; ``-n 1000`` for a quick check).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.devservices import free_port  # noqa: E402
from bench.harness import ROOT, record, stack  # noqa: E402

BUSINESSES = 5
#: Seconds between starting the workers and the reminders falling due (they warm up meanwhile).
LEAD_SECONDS = 12
KILL_AT = 0.25
TIMEOUT_SECONDS = 480


class Counting:
    """SMTP handler: counts accepted messages per envelope recipient, with arrival times."""

    def __init__(self) -> None:
        self.per_rcpt: Counter[str] = Counter()
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        now = time.time()
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.per_rcpt[rcpt.lower()] += 1
            self.times.append(now)
        return "250 Message accepted for delivery"

    def total(self) -> int:
        """Messages accepted so far."""
        with self.lock:
            return len(self.times)


def seed(app, owner_dsn: str, n: int, due: datetime) -> list[str]:
    """``BUSINESSES`` businesses with ``n`` confirmed bookings in all, each with its own staff
    member and guest customer, every one's 24-hour reminder due at ``due``; returns the addresses."""
    from app.identity.service import create_user
    from app.tenants.service import create_tenant
    from app.uow import unit_of_work

    with app.app_context(), unit_of_work():
        owner = create_user("owner@bench.test", "bench-password-123", "Bench Owner")
        tenants = [create_tenant(name=f"Salon {b}", slug=f"salon{b}",
                                 timezone="Europe/Copenhagen" if b == 0 else "Europe/London",
                                 currency="DKK" if b == 0 else "GBP", owner=owner).id for b in range(BUSINESSES)]
    start = due + timedelta(hours=24)
    addresses = []
    with psycopg.connect(owner_dsn) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        with conn.cursor() as cur:
            for b, tid in enumerate(tenants):
                svc = uuid.uuid4()
                cur.execute("insert into service (tenant_id, id, name, description, category, duration_minutes, "
                            "price_amount, currency, buffer_before_minutes, buffer_after_minutes, active, position, "
                            "created_at) values (%s, %s, 'Cut', '', '', 30, 30000, %s, 0, 0, true, 0, now())",
                            [tid, svc, "DKK" if b == 0 else "GBP"])
                share = range(b, n, BUSINESSES)
                staff, customers, bookings = [], [], []
                for i in share:
                    sid, cid = uuid.uuid4(), uuid.uuid4()
                    email = f"guest{i}@bench.example"
                    addresses.append(email)
                    staff.append((tid, sid, f"Stylist {i}", i))
                    customers.append((tid, cid, f"Guest {i}", email, "da" if i % 3 == 0 else None))
                    bookings.append((tid, uuid.uuid4(), svc, sid, cid, start, start + timedelta(minutes=30),
                                     "DKK" if b == 0 else "GBP", "da" if i % 3 == 0 else None))
                cur.executemany("insert into staff_member (tenant_id, id, name, bio, active, position, created_at) "
                                "values (%s, %s, %s, '', true, %s, now())", staff)
                cur.executemany("insert into customer (tenant_id, id, name, email, locale, created_at) "
                                "values (%s, %s, %s, %s, %s, now())", customers)
                cur.executemany(
                    "insert into booking (tenant_id, id, service_id, staff_id, customer_id, status, starts_at, ends_at, "
                    "blocked_from, blocked_until, price_amount, currency, customer_timezone, locale, notes, "
                    "created_at, updated_at) values (%s,%s,%s,%s,%s,'confirmed',%s,%s,%s,%s,30000,%s,"
                    "'Europe/Copenhagen',%s,'', now() - interval '2 days', now() - interval '2 days')",
                    [(t, bid, s, st, c, a, z, a, z, cur_, loc) for t, bid, s, st, c, a, z, cur_, loc in bookings])
        conn.execute("analyze")
        conn.commit()
    return addresses


def start_worker(log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``python worker.py`` in its own process group, logging to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to ``proc``'s process group and reap it."""
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def run(n: int, log: Path, processes: int = 1) -> dict[str, float]:
    """Set everything up, send, kill, wait; the measurements (``processes``: ``WORKER_PROCESSES``
    of each worker)."""
    handler = Counting()
    port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    settings = {"SMTP_URL": f"smtp://127.0.0.1:{port}", "LOG_LEVEL": "WARNING", "RQ_LOG_LEVEL": "WARNING",
                "PLAZA_RELAY_INTERVAL": "1", "PLAZA_SWEEP_INTERVAL": "600", "PLAZA_TRANSITIONS_INTERVAL": "600",
                "DELIVERY_LEASE_SECONDS": "15", "REMINDER_LEASE_SECONDS": "10",
                "MAIL_PER_RECIPIENT_PER_HOUR": "20", "WORKER_PROCESSES": str(processes)}
    try:
        with stack("plaza_bench_reminders", **settings) as st:
            from app import create_app

            app = create_app()
            due = (datetime.now(UTC) + timedelta(seconds=LEAD_SECONDS + 60)).replace(microsecond=0)
            addresses = seed(app, st.owner_dsn, n, due)
            wait = (due - datetime.now(UTC)).total_seconds() - LEAD_SECONDS
            if wait > 0:
                time.sleep(wait)
            env = {**st.env, **settings}
            env.pop("WORKER_FORK_PER_JOB", None)
            workers = [start_worker(log, env), start_worker(log, env)]
            try:
                killed_at = None
                deadline = time.time() + LEAD_SECONDS + TIMEOUT_SECONDS
                while time.time() < deadline:
                    got = handler.total()
                    if killed_at is None and got >= n * KILL_AT:
                        kill(workers[0])
                        killed_at = time.time()
                    if len(handler.per_rcpt) >= n:
                        break
                    time.sleep(0.05)
                time.sleep(2)  # anything sent twice arrives meanwhile
            finally:
                for w in workers:
                    kill(w, signal.SIGTERM if w is workers[1] else signal.SIGKILL)
            with psycopg.connect(st.owner_dsn) as conn:
                conn.execute("select set_config('app.platform', 'on', false)")
                recorded = conn.execute("select count(*) from delivery where status = 'sent' "
                                        "and dedup_key like '%%:reminder24:%%'").fetchone()[0]
    finally:
        smtp.stop()
    delivered = sum(1 for a in addresses if handler.per_rcpt.get(a, 0) >= 1)
    dupes = sum(1 for a in addresses if handler.per_rcpt.get(a, 0) > 1)
    times = sorted(handler.times)
    d = due.timestamp()
    return {"n": n, "delivered": delivered, "duplicates": dupes, "recorded": recorded,
            "first": (times[0] - d) if times else float("nan"), "last": (times[-1] - d) if times else float("nan"),
            "killed": (killed_at - d) if killed_at else float("nan"),
            "rate": len(times) / max(0.001, times[-1] - times[0]) if len(times) > 1 else 0.0}


def main() -> None:
    """Measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=10_000, help="reminders due at the same instant")
    parser.add_argument("--processes", type=int, default=1,
                        help="WORKER_PROCESSES of each of the two workers (1: one process each)")
    parser.add_argument("--log", default="/tmp/plaza-bench-reminders-workers.log", help="the workers' log")
    args = parser.parse_args()
    log = Path(args.log)
    log.unlink(missing_ok=True)
    r = run(args.n, log, args.processes)
    ok = r["delivered"] == r["n"] and r["duplicates"] == 0 and r["last"] < 60
    table = "\n".join([
        "| reminders due | processes per worker | delivered | sent twice | recorded sent | first / last delivery after due | "
        "worker killed at | throughput | target (all, none twice, < 60 s) |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {r['n']:,} | {args.processes} | {r['delivered']:,} | {r['duplicates']} | {r['recorded']:,} | "
        f"{r['first']:.1f} s / {r['last']:.1f} s | {r['killed']:.1f} s | {r['rate']:.0f} mails/s | "
        f"{'met' if ok else 'NOT met'} |"])
    print(table)
    if args.write:
        record("reminders" if args.processes == 1 else f"reminders-{args.processes}-processes", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                            f"`python bench/reminders.py --write --processes {args.processes}`: {BUSINESSES} businesses, "
                            f"two workers (`python worker.py` with `WORKER_PROCESSES={args.processes}`), one "
                            f"killed with SIGKILL after {KILL_AT:.0%} of the mails arrived.\n\n{table}")


if __name__ == "__main__":
    main()
