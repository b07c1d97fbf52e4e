"""The audit log: entries are written in the transaction of the change, seen only by their
business, and append-only for the app's database roles (INSERT and SELECT, never UPDATE, DELETE
or TRUNCATE), whatever the role sets."""

from __future__ import annotations

import uuid

import psycopg
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.queries import tenant_entries
from app.audit.service import AuditActor, record_audit
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import tenant_settings

pytestmark = pytest.mark.integration


def _url(services, key: str) -> str:
    return services[key].replace("postgresql+psycopg://", "postgresql://")


def test_an_entry_records_who_what_where_and_why_and_only_its_business_reads_it(ctx):
    bella, fixit = make_business("bella"), make_business("fixit")
    actor = make_user("desk@bella.test")
    with tenant_scope(bella.tenant_id):
        record_audit(AuditActor(actor, "203.0.113.9", "Firefox " + "x" * 400), "customer.erased", "customer",
                     uuid.UUID(int=7), reason="asked by email", before={"notes": 2}, after={"notes": 0})
        db.session.commit()
    with tenant_scope(fixit.tenant_id):
        assert tenant_entries() == ([], False)
    with tenant_scope(bella.tenant_id):
        entries, more = tenant_entries()
        assert not more and len(entries) == 1
        e = entries[0]
        assert (e.action, e.object_type, e.object_id, e.reason) == (
            "customer.erased", "customer", str(uuid.UUID(int=7)), "asked by email")
        assert (e.actor_user_id, e.ip, e.before, e.after) == (actor, "203.0.113.9", {"notes": 2}, {"notes": 0})
        assert len(e.user_agent) == 300 and e.tenant_id == bella.tenant_id and e.at.tzinfo is not None


def test_a_rolled_back_change_leaves_no_entry(ctx):
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):
        record_audit(AuditActor(None), "customer.merged", "customer", "x")
        db.session.rollback()
        assert tenant_entries() == ([], False)


def test_entries_page_newest_first(ctx):
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):
        for i in range(5):
            record_audit(AuditActor(None), f"thing.{i}", "thing", str(i))
        db.session.commit()
        first, more = tenant_entries(page=1, per_page=3)
        second, last = tenant_entries(page=2, per_page=3)
        assert more and not last
        assert len(first) == 3 and len(second) == 2
        assert {e.action for e in first + second} == {f"thing.{i}" for i in range(5)}


@pytest.mark.parametrize("key", ["DATABASE_URL", "PLATFORM_DATABASE_URL"])
def test_app_roles_may_insert_and_select_but_never_change_or_delete_entries(ctx, services, key):
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):
        entry = record_audit(AuditActor(None), "customer.merged", "customer", "c1")
        db.session.commit()
        entry_id = entry.id
    with psycopg.connect(_url(services, key), autocommit=True) as conn:
        conn.execute(*tenant_settings(bella.tenant_id, local=False))
        if key == "PLATFORM_DATABASE_URL":
            conn.execute("select set_config('app.platform', 'on', false)")
        conn.execute("insert into audit_entry (id, tenant_id, action, object_type, at) "
                     "values (%s, %s, 'customer.erased', 'customer', now())", [uuid.uuid4(), bella.tenant_id])
        assert conn.execute("select count(*) from audit_entry").fetchone()[0] == 2
        for sql in ("update audit_entry set reason = 'rewritten' where id = %s",
                    "delete from audit_entry where id = %s"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql, [entry_id])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("truncate audit_entry")
    with tenant_scope(bella.tenant_id):
        assert db.session.get(AuditEntry, entry_id).reason == ""


def test_platform_entries_are_seen_only_inside_platform_scope(ctx, services):
    bella = make_business("bella")
    with platform_scope("test: a platform action"):
        record_audit(AuditActor(None), "tenant.suspended", "tenant", bella.tenant_id)
        db.session.commit()
    with tenant_scope(bella.tenant_id):
        assert tenant_entries() == ([], False)
    with psycopg.connect(_url(services, "DATABASE_URL"), autocommit=True) as conn:
        conn.execute(*tenant_settings(bella.tenant_id, local=False))
        assert conn.execute("select count(*) from audit_entry").fetchone()[0] == 0
    with platform_scope("test: read"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.tenant_id.is_(None))) == 1
