"""Scale-out: two web processes and two workers on the suite's PostgreSQL and Redis, loaded by
Locust for about a minute with customers browsing, reading availability, booking (racing for
the same slots) and chatting from one process to the other (:mod:`bench.multinode`, the
scenario in :mod:`bench.locustfile`; ``python bench/multinode.py`` is the longer benchmark).

An e2e test: the whole deployment end to end, in separate processes, like the browser tests
(about two minutes, so it stays out of the quick ``-m "not e2e"`` run; ``make test`` runs it).
"""

from __future__ import annotations

import pytest

from bench.multinode import load_test

pytestmark = pytest.mark.e2e

USERS = 12
SECONDS = 60


def test_two_web_processes_and_two_workers_under_load_make_no_error_and_no_double_booking(app, services, tmp_path):
    report = load_test(app, services, services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://"),
                       tmp_path, users=USERS, seconds=SECONDS, full_seed=False)
    print(report.table, *report.summary, sep="\n")  # p99 per endpoint, shown with -s or on failure

    # 0 errors, no double booking, every 201 stored, every confirmation sent exactly once
    # (bench.multinode.check lists each violated property with its evidence).
    assert report.problems == []
    # The load really went through every path, on both processes and both workers.
    assert report.counts["booked"] >= 5
    assert report.counts["conflicts"] >= 1, "no booking met a 409: the race for slots was not exercised"
    assert report.counts["confirmed"] >= 5
    assert report.counts["chat_received"] >= 10
    assert {"GET storefront /", "GET apex /search", "GET /api/v1/availability", "POST /api/v1/bookings",
            "chat send -> receive"} <= set(report.endpoints)
    assert "| POST /api/v1/bookings | POST |" in report.table
