"""Benchmark: Stripe webhook intake and receipt-to-state latency.

Starts embedded PostgreSQL and Redis, localstripe, migrates, creates businesses each with a
Pro subscription at localstripe, and serves Plaza with gunicorn (2 workers x 8 threads). Then:

- intake: POSTs signed ``customer.subscription.updated`` events (distinct ids) from one
  keep-alive client and reports events/s and the response-time p99 (verify + ledger insert +
  enqueue);
- receipt -> state change: for each event, the time from sending the POST to the moment the
  business's ``billing_subscription`` row shows the change, with one RQ worker (``worker.py``,
  a forked work horse per job) draining the queue (re-fetch from localstripe, upsert, commit).

Prints a Markdown table; ``--write`` records it in ``bench/README.md`` (section "Webhooks").
Run: ``.venv/bin/python bench/webhooks.py --write``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())

from app.devservices import EmbeddedPostgres, EmbeddedRedis, bootstrap_database, free_port  # noqa: E402
from tests.localstripe_server import event_json, running_localstripe, sign  # noqa: E402

SECRET = "whsec_bench"
PRICE = "price_bench_pro"


def p99(values: list[float]) -> float:
    """99th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, int(round(0.99 * len(ordered))) - 1)]


def wait_port(port: int) -> None:
    """Block until 127.0.0.1:``port`` accepts connections (30 s)."""
    import socket

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def main() -> None:
    """Set up, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=300, help="events per measurement")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="plaza-bench-wh-"))
    pg = EmbeddedPostgres(tmp / "pg").start()
    rd = EmbeddedRedis(tmp / "redis").start()
    owner_url, app_url = bootstrap_database(pg.superuser_url, "plaza_bench_wh")
    with running_localstripe() as stripe_url:
        env = {"DATABASE_URL": app_url, "MIGRATION_DATABASE_URL": owner_url, "REDIS_URL": rd.url,
               "SECRET_KEY": "bench", "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "ERROR", "ENV": "development",
               "STRIPE_SECRET_KEY": "sk_test_bench", "STRIPE_API_BASE": stripe_url, "STRIPE_MODE": "local",
               "STRIPE_PRICE_PRO": PRICE, "STRIPE_WEBHOOK_SECRET": SECRET}
        os.environ.update(env)
        flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade", "heads"], cwd=ROOT, env=os.environ, check=True, capture_output=True)
        from app import create_app
        from app.billing.gateway import get_gateway
        from app.extensions import db
        from tests.factories import make_business

        app = create_app()
        with app.app_context():
            gw = get_gateway()
            subs = []
            for i in range(20):
                biz = make_business(f"bench{i}", staff=1)
                cus = gw.create_customer(biz.owner_email, f"Bench {i}", str(biz.tenant_id))
                gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
                subs.append(gw.create_subscription(cus["id"], PRICE, str(biz.tenant_id)))
            db.session.commit()
        port = free_port()
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "8", "-b",
                                f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=os.environ)
        worker = None
        try:
            wait_port(port)
            url = f"http://127.0.0.1:{port}/webhooks/stripe"
            http = requests.Session()
            for i in range(20):  # warm up both gunicorn workers (imports, pools)
                body = event_json(f"evt_bench_warm_{i}", "customer.subscription.updated", subs[0])
                http.post(url, data=body.encode(), headers={"Stripe-Signature": sign(body, SECRET),
                                                            "Content-Type": "application/json"})
            # intake only (no worker running yet): events/s and response p99
            times = []
            start = time.perf_counter()
            for i in range(args.n):
                sub = subs[i % len(subs)]
                body = event_json(f"evt_bench_in_{i}", "customer.subscription.updated", sub)
                t0 = time.perf_counter()
                r = http.post(url, data=body.encode(), headers={"Stripe-Signature": sign(body, SECRET),
                                                       "Content-Type": "application/json"})
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
            intake_rate = args.n / (time.perf_counter() - start)
            print(f"intake done: {intake_rate:.0f} events/s", file=sys.stderr)
            worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=os.environ)
            drain(owner_url)
            print("drained", file=sys.stderr)
            # receipt -> state change: toggle cancel_at_period_end at Stripe, send the event, wait for the row
            latencies = []
            conn = psycopg.connect(owner_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
            conn.execute("select set_config('app.platform', 'on', false)")  # read across tenants (RLS)
            for i in range(args.n // 3):
                sub = subs[i % len(subs)]
                want = i // len(subs) % 2 == 0
                obj = gw.set_cancel_at_period_end(sub["id"], want)
                body = event_json(f"evt_bench_lat_{i}", "customer.subscription.updated", obj)
                t0 = time.perf_counter()
                http.post(url, data=body.encode(), headers={"Stripe-Signature": sign(body, SECRET),
                                                   "Content-Type": "application/json"})
                while conn.execute("select cancel_at_period_end from billing_subscription "
                                   "where stripe_subscription_id = %s", (sub["id"],)).fetchone() != (want,):
                    time.sleep(0.001)
                latencies.append((time.perf_counter() - t0) * 1000)
            conn.close()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(10)
            web.terminate()
            web.wait(10)
    rd.stop()
    pg.stop()
    table = ("| measurement | n | rate | median ms | p99 ms |\n|---|---|---|---|---|\n"
             f"| POST /webhooks/stripe (verify + ledger + enqueue) | {args.n} | {intake_rate:.0f} events/s | "
             f"{statistics.median(times):.2f} | {p99(times):.2f} |\n"
             f"| receipt -> billing_subscription changed (1 worker) | {len(latencies)} | "
             f"{1000 / statistics.mean(latencies):.0f} events/s | {statistics.median(latencies):.2f} | "
             f"{p99(latencies):.2f} |\n")
    print(table)
    if args.write:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text()
        block = ("<!-- webhooks -->\nRecorded on this project's 2-core machine with "
                 "`python bench/webhooks.py --write`.\n\n" + table + "<!-- webhooks -->")
        text = re.sub(r"<!-- webhooks -->.*<!-- webhooks -->", lambda _: block, text, flags=re.S)
        readme.write_text(text)


def drain(owner_url: str) -> None:
    """Wait until every recorded event is processed."""
    with psycopg.connect(owner_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        while conn.execute("select count(*) from stripe_webhook_event where processed_at is null").fetchone()[0]:
            conn.rollback()
            time.sleep(0.05)


if __name__ == "__main__":
    main()
