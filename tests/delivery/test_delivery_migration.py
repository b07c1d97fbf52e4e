"""Migration ``j10a_one_delivery_table``: the rows of ``notification_delivery`` move into
``delivery`` with their history, and back on downgrade (run on a scratch database)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from app.devservices import bootstrap_database

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BEFORE = "i9b_uncollected_fee"
VALUES = {"uuid": "gen_random_uuid()", "integer": "0", "boolean": "false", "jsonb": "'{}'::jsonb",
          "timestamp with time zone": "now()", "date": "current_date", "bytea": "''::bytea"}


def _flask_db(services, urls, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": urls.app, "PLATFORM_DATABASE_URL": urls.platform,
           "MIGRATION_DATABASE_URL": urls.owner}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _insert(conn, table: str, **given: object) -> None:
    """A row of ``table`` with ``given`` values and a plain value for every other required column."""
    cols = conn.execute("select column_name, data_type, character_maximum_length from information_schema.columns "
                        "where table_name = %s and is_nullable = 'NO' and column_default is null", [table]).fetchall()
    names, exprs, params = list(given), ["%s"] * len(given), list(given.values())
    for name, data_type, length in cols:
        if name in given:
            continue
        names.append(name)
        exprs.append(VALUES.get(data_type) or f"'{'X' * min(length or 3, 3)}'")
    conn.execute(f"insert into {table} ({', '.join(names)}) values ({', '.join(exprs)})", params)  # noqa: S608


def test_the_notification_deliveries_move_into_delivery_with_their_history_and_back(services):
    urls = bootstrap_database(services["ADMIN_URL"], f"plaza_mig_{uuid.uuid4().hex[:8]}", recreate=True)
    _flask_db(services, urls, "upgrade", BEFORE)
    tenant, user, notification, direct, note = (uuid.uuid4() for _ in range(5))
    history = '[{"at": "2026-12-01T10:00:00+00:00", "status": "queued", "error": null}, ' \
              '{"at": "2026-12-01T10:00:01+00:00", "status": "sent", "error": null}]'
    with psycopg.connect(urls.owner.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        _insert(conn, "tenant", id=tenant, slug=f"t{tenant.hex[:8]}")
        _insert(conn, "user_account", id=user, email="alice@example.com")
        _insert(conn, "notification", id=notification, user_id=user, tenant_id=tenant, type="booking_confirmed",
                title="Booking confirmed")
        _insert(conn, "delivery", tenant_id=tenant, id=direct, dedup_key="booking:b1:confirmed:e1", channel="email",
                recipient="guest@example.com", subject="Booking confirmed: Haircut", status="sent")
        _insert(conn, "notification_delivery", id=note, notification_id=notification, user_id=user,
                tenant_id=tenant, channel="push", recipient="1 device(s)", status="sent", attempts=2,
                error=None, log=history)
    _flask_db(services, urls, "upgrade", "heads")
    with psycopg.connect(urls.owner.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        rows = conn.execute("select id, dedup_key, notification_id, user_id, channel, subject, status, attempts, "
                            "jsonb_array_length(log) from delivery order by dedup_key").fetchall()
        assert rows == [
            (direct, "booking:b1:confirmed:e1", None, None, "email", "Booking confirmed: Haircut", "sent", 0, 0),
            (note, f"notification:{notification}:push", notification, user, "push", "Booking confirmed", "sent", 2, 2),
        ]
        assert conn.execute("select to_regclass('public.notification_delivery')").fetchone() == (None,)
    _flask_db(services, urls, "downgrade", BEFORE)
    with psycopg.connect(urls.owner.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        assert conn.execute("select id, status, attempts from notification_delivery").fetchall() == [(note, "sent", 2)]
        assert conn.execute("select id from delivery").fetchall() == [(direct,)]
