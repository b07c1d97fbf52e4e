"""Tenant isolation: the ORM guard, row-level security and the database roles."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from app.catalog.models import Service
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.errors import TenantScopeError
from tests.factories import make_business
from tests.helpers import tenant_settings

pytestmark = pytest.mark.integration


def test_orm_query_without_tenant_raises(ctx):
    make_business("bella")
    with pytest.raises(TenantScopeError):
        db.session.scalars(sa.select(Service)).all()


def test_orm_query_sees_only_its_tenant(ctx):
    a = make_business("bella")
    b = make_business("fixit", services=[("Mount TV", 90, 14900), ("Drywall", 120, 19900)])
    with tenant_scope(a.tenant_id):
        names = db.session.scalars(sa.select(Service.name)).all()
        assert names == ["Haircut"]
        # Asking for B's id by primary key inside A finds nothing.
        assert db.session.scalar(sa.select(Service).where(Service.id == b.service_ids[0])) is None
    with platform_scope("test: count all"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Service)) == 3


def test_writing_a_row_for_another_tenant_raises(ctx):
    a = make_business("bella")
    b = make_business("fixit")
    with tenant_scope(a.tenant_id):
        db.session.add(Service(tenant_id=b.tenant_id, name="x", duration_minutes=30, price_amount=1, currency="DKK"))
        with pytest.raises(TenantScopeError):
            db.session.flush()
    db.session.rollback()


def _app_conn(services):
    return psycopg.connect(services["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"))


def test_raw_sql_under_rls_sees_only_scoped_tenant(ctx, services):
    a = make_business("bella")
    make_business("fixit")
    with _app_conn(services) as conn:
        with conn.transaction():
            conn.execute(*tenant_settings(a.tenant_id))
            tenants = {r[0] for r in conn.execute("select tenant_id from service")}
            assert tenants == {a.tenant_id}
            assert conn.execute("select count(*) from staff_member").fetchone()[0] == 2
        with conn.transaction():
            # No tenant set: nothing at all.
            assert conn.execute("select count(*) from service").fetchone()[0] == 0
            assert conn.execute("select count(*) from booking").fetchone()[0] == 0


def test_rls_rejects_insert_for_other_tenant(ctx, services):
    a = make_business("bella")
    b = make_business("fixit")
    with _app_conn(services) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with conn.transaction():
                conn.execute(*tenant_settings(a.tenant_id))
                conn.execute("insert into service (tenant_id, id, name, description, category, duration_minutes, "
                             "price_amount, currency, buffer_before_minutes, buffer_after_minutes, active, position, "
                             "created_at) values (%s, gen_random_uuid(), 'x', '', '', 30, 1, 'DKK', 0, 0, true, 0, now())",
                             [str(b.tenant_id)])


def test_app_role_is_not_owner_superuser_or_bypassrls(services):
    with _app_conn(services) as conn:
        row = conn.execute("select rolsuper, rolbypassrls from pg_roles where rolname = current_user").fetchone()
        assert row == (False, False)
        owners = {r[0] for r in conn.execute(
            "select tableowner from pg_tables where schemaname = 'public' and tablename in ('booking', 'service')")}
        assert owners == {"plaza_owner"}
        forced = conn.execute("select bool_and(relforcerowsecurity and relrowsecurity) from pg_class "
                              "where relname in ('booking','service','customer','staff_member')").fetchone()[0]
        assert forced is True
