"""In-process profile of cold availability (no HTTP, no gunicorn): where the time goes.

Sets up the same data as ``bench/run.py`` (demo business scaled to 10 staff, 5,000 bookings),
then, inside one app context with the tenant in scope, calls
:func:`app.scheduling.service.availability_json` for 14 days "any staff" with the cache
invalidated before every call, and reports per call: CPU time of this process
(``time.process_time``), wall time, SQL statements and their wall time; then the top
functions of a cProfile run. CPU time is what load on a shared machine distorts least.

Run: ``.venv/bin/python bench/profile_availability.py [-n 200]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import flask, percentile, stack  # noqa: E402
from bench.run import scale_demo  # noqa: E402


def main() -> None:
    """Set up, measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=200, help="cold calls per measurement")
    args = parser.parse_args()
    with stack("plaza_bench_prof", LOG_LEVEL="WARNING"):
        flask(["seed-demo"])
        tenant_id, service_ids, _staff = scale_demo(os_owner_url())
        profile(uuid.UUID(tenant_id), uuid.UUID(service_ids[0]), args.n)


def os_owner_url() -> str:
    """The owner URL the stack put in the environment."""
    import os

    return os.environ["MIGRATION_DATABASE_URL"]


def profile(tenant_id: uuid.UUID, service_id: uuid.UUID, n: int) -> None:
    """Print CPU, wall and SQL per cold call, then cProfile's top 25 by cumulative time."""
    import sqlalchemy as sa
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db
    from app.redis_client import get_redis
    from app.scheduling.cache import version_key
    from app.scheduling.service import availability_json
    from app.tenants.context import tenant_scope
    from app.tenants.models import Tenant

    app = create_app()
    sql = {"count": 0, "time": 0.0}

    with app.app_context(), tenant_scope(tenant_id):
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
            conn.info["t0"] = time.perf_counter()

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
            sql["count"] += 1
            sql["time"] += time.perf_counter() - conn.info["t0"]

        r = get_redis()
        today = datetime.now(UTC).date()
        start, end = today + timedelta(days=1), today + timedelta(days=14)

        def once() -> bytes:
            r.incr(version_key(tenant_id))
            tenant = db.session.scalar(sa.select(Tenant).where(Tenant.id == tenant_id))
            body = availability_json(tenant, service_id, staff_id=None, start_date=start, end_date=end,
                                     tz_name="Europe/Copenhagen")
            db.session.rollback()
            return body

        for _ in range(10):
            once()
        cpu, wall, stmts, sql_ms = [], [], [], []
        for _ in range(n):
            sql.update(count=0, time=0.0)
            c0, w0 = time.process_time(), time.perf_counter()
            body = once()
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - w0) * 1000)
            stmts.append(sql["count"])
            sql_ms.append(sql["time"] * 1000)
        print(f"slots in the answer: {body.count(b'start')}")
        print("| per cold call | median | p99 |\n|---|---|---|")
        for name, vals in (("CPU ms (this process)", cpu), ("wall ms", wall), ("SQL statements", stmts),
                           ("SQL wall ms", sql_ms)):
            print(f"| {name} | {statistics.median(vals):.2f} | {percentile(vals, 99):.2f} |")
        explain(tenant_id, service_id, start, end)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(50):
            once()
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(20)
        print(out.getvalue())


def explain(tenant_id: uuid.UUID, service_id: uuid.UUID, start, end) -> None:  # noqa: ANN001
    """Print PostgreSQL's own timing of the one statement that loads hours, overrides and busy time."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.scheduling.inputs import PLAN_SQL
    from app.scheduling.service import performers

    ids = list(performers(service_id))
    since = datetime.combine(start, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    until = datetime.combine(end, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    params = {"tid": tenant_id, "ids": ids, "lo": since.date(), "hi": until.date(), "since": since, "until": until,
              "statuses": ["pending", "confirmed", "awaiting_payment"]}
    rows = db.session.execute(sa.text("explain analyze " + PLAN_SQL.text), params).scalars().all()
    db.session.rollback()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
