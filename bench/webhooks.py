"""Benchmark: Stripe webhook intake and receipt-to-state latency.

Starts embedded PostgreSQL and Redis, localstripe, migrates, creates businesses each with a
Pro subscription at localstripe, and serves Plaza with gunicorn (2 workers x 8 threads). Then:

- intake: POSTs signed ``customer.subscription.updated`` events (distinct ids) from one
  keep-alive client and reports events/s and the response-time p99 (verify + ledger insert +
  enqueue);
- receipt -> state change: for each event, the time from sending the POST to the moment the
  business's ``billing_subscription`` row shows the change, with one RQ worker (``worker.py`` as
  deployed: RQ's ``SimpleWorker``, jobs in the worker process, no fork; ``--fork`` sets
  ``WORKER_FORK_PER_JOB=true`` for the old forked work horse per job) draining the queue
  (re-fetch the subscription with its latest invoice from localstripe, upsert, commit).

Prints a Markdown table; ``--write`` records it in ``bench/README.md`` (section "Webhooks").
Run: ``.venv/bin/python bench/webhooks.py --write``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.devservices import free_port  # noqa: E402
from bench.harness import ROOT, gunicorn, p99, record, stack, stop  # noqa: E402
from tests.localstripe_server import event_json, running_localstripe, sign  # noqa: E402

SECRET = "whsec_bench"
PRICE = "price_bench_pro"


def main() -> None:
    """Set up, measure, print (and optionally record) the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="record the table in bench/README.md")
    parser.add_argument("-n", type=int, default=300, help="events per measurement")
    parser.add_argument("--fork", action="store_true", help="the worker forks a work horse per job (the old way)")
    args = parser.parse_args()
    worker_kind = "forked work horse per job" if args.fork else "SimpleWorker, no fork"
    with running_localstripe() as stripe_url, stack(
            "plaza_bench_wh", STRIPE_SECRET_KEY="sk_test_bench", STRIPE_API_BASE=stripe_url, STRIPE_MODE="local",
            STRIPE_PRICE_PRO=PRICE, STRIPE_WEBHOOK_SECRET=SECRET) as st:
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
        web = gunicorn("wsgi:app", port)
        worker = None
        try:
            url, host = f"http://127.0.0.1:{port}/webhooks/stripe", f"localhost:{port}"  # IP Hosts are refused
            http = requests.Session()
            for i in range(20):  # warm up both gunicorn workers (imports, pools)
                body = event_json(f"evt_bench_warm_{i}", "customer.subscription.updated", subs[0])
                http.post(url, data=body.encode(), headers={"Stripe-Signature": sign(body, SECRET),
                                                            "Content-Type": "application/json", "Host": host})
            # intake only (no worker running yet): events/s and response p99
            times = []
            start = time.perf_counter()
            for i in range(args.n):
                sub = subs[i % len(subs)]
                body = event_json(f"evt_bench_in_{i}", "customer.subscription.updated", sub)
                t0 = time.perf_counter()
                r = http.post(url, data=body.encode(), headers={"Stripe-Signature": sign(body, SECRET),
                                                       "Content-Type": "application/json", "Host": host})
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
            intake_rate = args.n / (time.perf_counter() - start)
            print(f"intake done: {intake_rate:.0f} events/s", file=sys.stderr)
            worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, start_new_session=True,
                                      env={**os.environ, "WORKER_FORK_PER_JOB": "true" if args.fork else "false"})
            drain(st.owner_dsn, st.redis_url)
            print("drained", file=sys.stderr)
            # receipt -> state change: toggle cancel_at_period_end at Stripe, send the event, wait for the row
            latencies = []
            conn = psycopg.connect(st.owner_dsn, autocommit=True)
            conn.execute("select set_config('app.platform', 'on', false)")  # read across tenants (RLS)
            for i in range(args.n // 3):
                sub = subs[i % len(subs)]
                want = i // len(subs) % 2 == 0
                obj = gw.set_cancel_at_period_end(sub["id"], want)
                body = event_json(f"evt_bench_lat_{i}", "customer.subscription.updated", obj)
                t0 = time.perf_counter()
                http.post(url, data=body.encode(), headers={"Stripe-Signature": sign(body, SECRET),
                                                   "Content-Type": "application/json", "Host": host})
                while conn.execute("select cancel_at_period_end from billing_subscription "
                                   "where stripe_subscription_id = %s", (sub["id"],)).fetchone() != (want,):
                    time.sleep(0.001)
                latencies.append((time.perf_counter() - t0) * 1000)
            conn.close()
            slowest = sorted(enumerate(latencies), key=lambda p: -p[1])[:5]
            print("slowest (event #, ms): " + ", ".join(f"#{i} {ms:.0f}" for i, ms in slowest), file=sys.stderr)
        finally:
            stop(worker, web)
    table = ("| measurement | n | rate | median ms | p99 ms |\n|---|---|---|---|---|\n"
             f"| POST /webhooks/stripe (verify + ledger + enqueue) | {args.n} | {intake_rate:.0f} events/s | "
             f"{statistics.median(times):.2f} | {p99(times):.2f} |\n"
             f"| receipt -> billing_subscription changed (1 worker: {worker_kind}) | {len(latencies)} | "
             f"{1000 / statistics.mean(latencies):.0f} events/s | {statistics.median(latencies):.2f} | "
             f"{p99(latencies):.2f} |\n")
    print(table)
    if args.write:
        record("webhooks", f"Recorded {date.today().isoformat()} on this project's 2-core machine with "
                           f"`python bench/webhooks.py --write{' --fork' if args.fork else ''}`.\n\n" + table)


def drain(owner_dsn: str, redis_url: str) -> None:
    """Wait until every recorded event is processed and the worker's queue is empty (the periodic
    jobs it queues when it starts, e.g. the sweeps and the metrics rollups, have run)."""
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    from app.jobs.runner import QUEUE_NAME

    with psycopg.connect(owner_dsn) as conn:
        while conn.execute("select count(*) from stripe_webhook_event where processed_at is null").fetchone()[0]:
            conn.rollback()
            time.sleep(0.05)
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
    started = StartedJobRegistry(queue=queue)
    while queue.count or started.count:
        time.sleep(0.05)


if __name__ == "__main__":
    main()
