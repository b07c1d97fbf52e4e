"""The autocommit platform-role connection for public reads of platform tables: it sees the
read model, sees no tenant's rows (it sets no RLS setting), keeps no setting from one
statement to the next, and outlives a dropped connection."""

from __future__ import annotations

import os

import psycopg
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.roles import read_platform_tables

pytestmark = pytest.mark.integration

PLATFORM_LOGIN = "plaza_platform_app"


def test_it_reads_platform_tables_as_the_platform_role_and_no_tenant_rows(ctx):
    from tests.factories import make_business

    bella = make_business("bella")
    with platform_scope("test: count the services"):
        services = db.session.scalar(sa.text("select count(*) from service"))
        known_categories = db.session.scalar(sa.text("select count(*) from marketplace_category"))
    db.session.rollback()
    assert services > 0

    def look(conn: sa.Connection) -> tuple:
        return (conn.scalar(sa.text("select current_user")),
                conn.scalar(sa.text("select count(*) from marketplace_category")),
                conn.scalar(sa.text("select count(*) from service")))

    with tenant_scope(bella.tenant_id):
        user, categories, seen = read_platform_tables(look)
    assert user == PLATFORM_LOGIN and categories == known_categories  # the read model's tables are readable
    assert seen == 0  # no RLS setting on this connection: tenant tables read as empty


def test_each_statement_is_its_own_transaction(ctx):
    def look(conn: sa.Connection) -> tuple:
        first = conn.scalar(sa.text("select pg_current_xact_id()::text"))
        conn.execute(sa.text("select set_config('app.platform', 'on', true)"))
        return (first, conn.scalar(sa.text("select coalesce(current_setting('app.platform', true), '')")),
                conn.scalar(sa.text("select pg_current_xact_id()::text")))

    first, platform, second = read_platform_tables(look)
    assert platform == "" and second != first
    assert not db.session().in_transaction()  # the unit of work's session was never touched


@pytest.mark.skipif(os.environ.get("PLAZA_PGBOUNCER") == "1",
                    reason="behind PgBouncer the pooler replaces a dropped server connection itself")
def test_a_connection_the_server_dropped_is_replaced(ctx, services):
    pid = read_platform_tables(lambda conn: conn.scalar(sa.text("select pg_backend_pid()")))
    with psycopg.connect(services["ADMIN_URL"].replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as admin:
        assert admin.execute("select pg_terminate_backend(%s)", [pid]).fetchone()[0]
    calls = []

    def count(conn: sa.Connection) -> int:
        calls.append(1)
        return conn.scalar(sa.text("select count(*) from marketplace_category"))

    assert read_platform_tables(count) > 0
    assert len(calls) == 2  # the first try met the dropped connection
