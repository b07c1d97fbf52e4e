"""In-process profile of the reminder batch job (no RQ, no second worker): where its time goes.

Starts the embedded stack and a local SMTP server (aiosmtpd in a thread), seeds the bookings of
``bench/reminders.py`` with their 24-hour reminder due now, then runs the batch job's body
(``app.notifications.tasks.send_reminder_batch``: one business, up to 100 bookings) over them
and reports per reminder: CPU time of this process (the SMTP server's thread included, so it is
an upper bound), wall time and SQL statements; then cProfile's top functions (by CPU time) over a further
set of batches. CPU time and counts are what load on a shared machine distorts least.

Run: ``.venv/bin/python bench/profile_reminders.py [-n 1500]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402

from app.devservices import free_port  # noqa: E402
from bench.harness import stack  # noqa: E402
from bench.reminders import Counting, seed  # noqa: E402


def main() -> None:
    """Set up, measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1500, help="reminders (two thirds measured, one third profiled)")
    args = parser.parse_args()
    handler = Counting()
    port = free_port()
    smtp = Controller(handler, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        with stack("plaza_bench_remprof", SMTP_URL=f"smtp://127.0.0.1:{port}", LOG_LEVEL="WARNING",
                   MAIL_PER_RECIPIENT_PER_HOUR="20") as st:
            profile(args.n, handler, st.owner_dsn)
    finally:
        smtp.stop()


def profile(n: int, handler: Counting, owner_dsn: str) -> None:
    """Print CPU, wall and SQL per reminder, then cProfile's top functions (``owner_dsn``: the
    stack's migration role, to seed and read the bookings)."""
    import psycopg
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from app import create_app
    from app.jobs.runner import bind_job_app
    from app.notifications import tasks

    app = create_app()
    bind_job_app(app)
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    seed(app, owner_dsn, n, due)
    with psycopg.connect(owner_dsn) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        rows = conn.execute("select tenant_id, id from booking order by tenant_id, id").fetchall()
    batches: list[tuple[str, list[str]]] = []
    by_tenant: dict[str, list[str]] = {}
    for tenant_id, booking_id in rows:
        by_tenant.setdefault(str(tenant_id), []).append(str(booking_id))
    for tenant_id, ids in by_tenant.items():
        for i in range(0, len(ids), tasks.REMINDER_BATCH_SIZE):
            batches.append((tenant_id, ids[i:i + tasks.REMINDER_BATCH_SIZE]))
    counts = {"sql": 0}

    def _after(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        counts["sql"] += 1

    event.listen(Engine, "after_cursor_execute", _after)
    measured = batches[: max(1, len(batches) * 2 // 3)]
    profiled = batches[len(measured):]
    tasks.send_reminder_batch(*measured[0])  # warm: imports, templates, connections
    sent, cpu, wall = 0, 0.0, 0.0
    counts["sql"] = 0
    for tenant_id, ids in measured[1:]:
        c0, w0 = time.process_time(), time.perf_counter()
        sent += tasks.send_reminder_batch(tenant_id, ids)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
    sent = max(sent, 1)
    print(f"| per reminder ({sent} sent) | value |\n|---|---|")
    print(f"| CPU ms (this process, SMTP server included) | {cpu / sent * 1000:.2f} |")
    print(f"| wall ms | {wall / sent * 1000:.2f} |")
    print(f"| SQL statements | {counts['sql'] / sent:.1f} |")
    print(f"| mails accepted by the SMTP server | {handler.total()} |")
    prof = cProfile.Profile(time.process_time)  # CPU time: waits for PostgreSQL and SMTP do not count
    prof.enable()
    for tenant_id, ids in profiled:
        tasks.send_reminder_batch(tenant_id, ids)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("cumulative").print_stats("/app/", 40)
    stats.sort_stats("tottime").print_stats(25)
    print(out.getvalue())


if __name__ == "__main__":
    main()
