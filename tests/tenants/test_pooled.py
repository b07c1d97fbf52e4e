"""Behind PgBouncer in transaction pooling mode (the pooled run, ``PLAZA_PGBOUNCER=1``), transactions
of different tenants take turns on the same server connection, and none sees another's settings."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app.catalog.models import StaffMember
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.factories import make_business

pytestmark = pytest.mark.integration

pooled = pytest.mark.skipif(os.environ.get("PLAZA_PGBOUNCER") != "1",
                            reason="only in the pooled run (make test runs it with PLAZA_PGBOUNCER=1)")


@pooled
def test_tenant_settings_stay_in_their_transaction_on_a_shared_server_connection(ctx):
    bella, fixit = make_business("bella"), make_business("fixit")
    engine = db.engines[None]
    first, second = engine.connect(), engine.connect()  # two client connections to PgBouncer
    try:
        seen = []
        for conn, tenant in ((first, bella.tenant_id), (second, fixit.tenant_id), (first, None), (second, None)):
            with conn.begin():
                if tenant is not None:
                    conn.execute(sa.text("select set_config('app.tenant_id', :t, true)"), {"t": str(tenant)})
                seen.append((conn.execute(sa.text("select pg_backend_pid()")).scalar(),
                             conn.execute(sa.text("select current_setting('app.tenant_id', true)")).scalar() or ""))
        pids = {pid for pid, _setting in seen}
        assert [setting for _pid, setting in seen] == [str(bella.tenant_id), str(fixit.tenant_id), "", ""]
        assert len(pids) < len(seen)  # server connections were shared between the client connections
    finally:
        first.close()
        second.close()


@pooled
def test_each_tenant_reads_only_its_own_rows_through_the_pooler(ctx):
    bella, fixit = make_business("bella", staff=1), make_business("fixit", staff=3)
    for _ in range(3):
        for biz, count in ((bella, 1), (fixit, 3)):
            with tenant_scope(biz.tenant_id):
                assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffMember)) == count
                db.session.commit()
