"""In-process profile of the Stripe webhook job (no gunicorn, no RQ): where its time goes.

Starts localstripe and the embedded stack, creates 20 businesses with a Pro subscription, records
``customer.subscription.updated`` events in the ledger, then runs the job's body
(``app.billing.tasks.process_webhook_event``: a fresh app context, lock the ledger row, re-fetch
the subscription and its latest invoice from localstripe, upsert, commit) once per event and
reports per job: CPU time of this process, wall time, SQL statements and their wall time, HTTP
requests to Stripe and their wall time, and new TCP connections to Stripe; then cProfile's top
functions. CPU time and counts are what load on a shared machine distorts least.

Run: ``.venv/bin/python bench/profile_webhooks.py [-n 100]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import percentile, stack  # noqa: E402
from tests.localstripe_server import event_json, running_localstripe  # noqa: E402

PRICE = "price_bench_pro"


def main() -> None:
    """Set up, measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100, help="jobs per measurement")
    args = parser.parse_args()
    with running_localstripe() as stripe_url, stack(
            "plaza_bench_whprof", STRIPE_SECRET_KEY="sk_test_bench", STRIPE_API_BASE=stripe_url, STRIPE_MODE="local",
            STRIPE_PRICE_PRO=PRICE, STRIPE_WEBHOOK_SECRET="whsec_bench", LOG_LEVEL="WARNING"):
        profile(args.n)


def profile(n: int) -> None:
    """Print CPU, wall, SQL and HTTP per job, then cProfile's top functions."""
    import json

    import urllib3
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from app import create_app
    from app.billing import tasks, webhooks
    from app.billing.gateway import get_gateway
    from app.extensions import db
    from app.jobs.runner import bind_job_app
    from tests.factories import make_business

    app = create_app()
    bind_job_app(app)
    with app.app_context():
        gw = get_gateway()
        subs = []
        for i in range(20):
            biz = make_business(f"prof{i}", staff=1)
            cus = gw.create_customer(biz.owner_email, f"Prof {i}", str(biz.tenant_id))
            gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
            subs.append(gw.create_subscription(cus["id"], PRICE, str(biz.tenant_id)))
        db.session.commit()

        def record(i: int) -> str:
            event_id = f"evt_prof_{i}"
            webhooks.record_event(json.loads(event_json(event_id, "customer.subscription.updated",
                                                        subs[i % len(subs)])))
            db.session.commit()
            return event_id

        ids = [record(i) for i in range(n + 60)]
    counts = {"sql": 0, "sql_s": 0.0, "http": 0, "http_s": 0.0, "connect": 0}

    def _before(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        conn.info["t0"] = time.perf_counter()

    event.listen(Engine, "before_cursor_execute", _before)  # every engine (the job's app context makes its own)

    def _after(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        counts["sql"] += 1
        counts["sql_s"] += time.perf_counter() - conn.info["t0"]

    event.listen(Engine, "after_cursor_execute", _after)
    original_urlopen = urllib3.connectionpool.HTTPConnectionPool.urlopen
    original_new = urllib3.connectionpool.HTTPConnectionPool._new_conn

    def urlopen(self, *a, **kw):  # noqa: ANN001, ANN002, ANN003
        t0 = time.perf_counter()
        try:
            return original_urlopen(self, *a, **kw)
        finally:
            counts["http"] += 1
            counts["http_s"] += time.perf_counter() - t0

    def new_conn(self):  # noqa: ANN001
        counts["connect"] += 1
        return original_new(self)

    urllib3.connectionpool.HTTPConnectionPool.urlopen = urlopen
    urllib3.connectionpool.HTTPConnectionPool._new_conn = new_conn

    for event_id in ids[:10]:
        tasks.process_webhook_event(event_id)
    rows: dict[str, list[float]] = {k: [] for k in ("CPU ms (this process)", "wall ms", "SQL statements",
                                                    "SQL wall ms", "HTTP requests", "HTTP wall ms",
                                                    "new TCP connections")}
    for event_id in ids[10:10 + n]:
        for k in counts:
            counts[k] = 0
        c0, w0 = time.process_time(), time.perf_counter()
        status = tasks.process_webhook_event(event_id)
        rows["CPU ms (this process)"].append((time.process_time() - c0) * 1000)
        rows["wall ms"].append((time.perf_counter() - w0) * 1000)
        if status != "processed":
            raise RuntimeError(f"{event_id}: {status}")
        rows["SQL statements"].append(counts["sql"])
        rows["SQL wall ms"].append(counts["sql_s"] * 1000)
        rows["HTTP requests"].append(counts["http"])
        rows["HTTP wall ms"].append(counts["http_s"] * 1000)
        rows["new TCP connections"].append(counts["connect"])
    print("| per webhook job | median | p99 |\n|---|---|---|")
    for name, vals in rows.items():
        print(f"| {name} | {statistics.median(vals):.2f} | {percentile(vals, 99):.2f} |")
    prof = cProfile.Profile()
    prof.enable()
    for event_id in ids[10 + n:]:
        tasks.process_webhook_event(event_id)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
    print(out.getvalue())


if __name__ == "__main__":
    main()
