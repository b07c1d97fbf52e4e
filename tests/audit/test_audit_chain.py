"""The audit log is tamper-evident: each row's hash covers its content and the previous row's
hash, and ``flask audit verify`` names the first row changed behind the app's back."""

from __future__ import annotations

import psycopg
import pytest

from app.audit.models import AuditEntry
from app.audit.service import AuditActor, record_audit
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user

pytestmark = pytest.mark.integration


def _owner(services) -> psycopg.Connection:
    conn = psycopg.connect(services["MIGRATION_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)
    conn.execute("select set_config('app.platform', 'on', false)")
    return conn


def _write_entries(bella_id, actor) -> list:
    ids = []
    with tenant_scope(bella_id):
        for i in range(3):
            ids.append(record_audit(AuditActor(actor, "198.51.100.4", "Firefox"), f"thing.{i}", "thing", str(i),
                                    before={"n": i}, after={"n": i + 1}).id)
        db.session.commit()
    with platform_scope("test: a platform action"):
        ids.append(record_audit(AuditActor(None), "tenant.suspended", "tenant", bella_id, reason="spam").id)
        db.session.commit()
    return ids


def test_entries_are_chained_in_one_order_with_the_actors_email(ctx):
    bella = make_business("bella")
    actor = make_user("desk@bella.test")
    ids = _write_entries(bella.tenant_id, actor)
    with platform_scope("test: read the chain"):
        rows = [db.session.get(AuditEntry, i) for i in ids]
        assert [r.seq for r in rows] == sorted(r.seq for r in rows) and len({r.seq for r in rows}) == 4
        assert rows[0].prev_hash == "" and all(len(r.row_hash) == 64 for r in rows)
        assert [r.prev_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
        assert rows[0].actor_email == "desk@bella.test" and rows[3].actor_email is None


def test_verify_reports_an_intact_chain(app, ctx):
    bella = make_business("bella")
    _write_entries(bella.tenant_id, make_user("desk@bella.test"))
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact: 4 rows" in result.output


@pytest.mark.parametrize("tamper, problem", [
    ("update audit_entry set reason = 'nothing to see' where id = %s", "content changed"),
    ("update audit_entry set after = '{\"n\": 99}' where id = %s", "content changed"),
    ("delete from audit_entry where id = %s", "link broken"),
])
def test_verify_names_the_first_row_altered_directly_in_the_database(app, ctx, services, tamper, problem):
    bella = make_business("bella")
    ids = _write_entries(bella.tenant_id, make_user("desk@bella.test"))
    with _owner(services) as conn:
        conn.execute(tamper, [ids[1]])
        seq_of = dict(conn.execute("select id, seq from audit_entry").fetchall())
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    named = ids[1] if problem == "content changed" else ids[2]
    assert f"seq={seq_of[named]} id={named}: {problem}" in result.output


def test_rehashing_an_altered_row_still_breaks_the_link_to_the_next(app, ctx, services):
    bella = make_business("bella")
    ids = _write_entries(bella.tenant_id, make_user("desk@bella.test"))
    with _owner(services) as conn:
        conn.execute("update audit_entry set reason = 'covered up' where id = %s", [ids[0]])
        conn.execute("update audit_entry a set row_hash = audit_entry_digest(a) where id = %s", [ids[0]])
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"id={ids[1]}: link broken" in result.output
