"""The autocommit platform-role connection for public reads of platform tables: it sees the
read model, sees no tenant's rows whatever a statement sets, and keeps no setting from one
statement to the next."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.roles import platform_table_read
from tests.factories import make_business

pytestmark = pytest.mark.integration

PLATFORM_LOGIN = "plaza_platform_app"


def test_it_reads_platform_tables_as_the_platform_role_and_no_tenant_rows(ctx):
    bella = make_business("bella")
    with platform_scope("test: count the services"):
        services = db.session.scalar(sa.text("select count(*) from service"))
    db.session.rollback()
    assert services > 0
    with tenant_scope(bella.tenant_id), platform_table_read() as conn:
        assert conn.scalar(sa.text("select current_user")) == PLATFORM_LOGIN
        assert conn.scalar(sa.text("select count(*) from marketplace_category")) > 0
        # Neither the tenant in scope nor a statement's own set_config opens a tenant table.
        assert conn.scalar(sa.text("select count(*) from service")) == 0
        assert conn.scalar(sa.text("select count(*) from service, "
                                   "(select set_config('app.platform', 'on', true)) s")) == 0


def test_each_statement_is_its_own_transaction(ctx):
    with platform_table_read() as conn:
        first = conn.scalar(sa.text("select pg_current_xact_id()::text"))
        conn.execute(sa.text("select set_config('app.platform', 'on', true)"))
        assert conn.scalar(sa.text("select coalesce(current_setting('app.platform', true), '')")) == ""
        assert conn.scalar(sa.text("select pg_current_xact_id()::text")) != first
    assert not db.session().in_transaction()  # the unit of work's session was never touched
