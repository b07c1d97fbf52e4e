"""three database roles: tenant policies without bypass, forced RLS on every tenant_id table,
password hashes hidden from the tenant role, alembic_version read-only

Revision ID: f1_db_roles
Revises: e1_outbox_lookups
Create Date: 2026-12-05 03:00:00

Policies and grants move from the login role ``plaza_app`` to the NOLOGIN groups
``plaza_tenant`` and ``plaza_platform`` (migrations/rls.py). Only ``plaza_platform``
honours ``app.platform``. Every table with a ``tenant_id`` column, found in the catalogue,
gets forced RLS (``notification``, ``notification_delivery``, ``marketing_consent`` and
``tenant_domain`` had none).
"""
from alembic import op
import sqlalchemy as sa

from migrations.rls import LEGACY_APP_ROLE, apply_grants, require_groups, tenant_policies

revision = "f1_db_roles"
down_revision = "e1_outbox_lookups"
branch_labels = None
depends_on = None

NEWLY_FORCED = ("notification", "notification_delivery", "marketing_consent", "tenant_domain")


def _tenant_tables() -> list[str]:
    return list(op.get_bind().scalars(sa.text(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped "
        "where n.nspname = 'public' and c.relkind in ('r', 'p') order by c.relname")))


def upgrade():
    require_groups()
    for table in _tenant_tables():
        tenant_policies(table)
    apply_grants()
    # Databases bootstrapped before the three roles granted the app role DML on every new table
    # (alembic_version included); privileges now come from apply_grants only.
    op.execute(
        f"do $$ begin if exists (select 1 from pg_roles where rolname = '{LEGACY_APP_ROLE}') then "
        f"alter default privileges in schema public revoke select, insert, update, delete on tables "
        f"from {LEGACY_APP_ROLE}; "
        f"alter default privileges in schema public revoke usage, select on sequences from {LEGACY_APP_ROLE}; "
        "end if; end $$")


def downgrade():
    flag = "current_setting('app.platform', true) = 'on'"
    mine = "tenant_id::text = current_setting('app.tenant_id', true)"
    for table in _tenant_tables():
        for name in ("tenant_rows", "platform_rows", "platform_person_rows", "platform_host_lookup"):
            op.execute(f"drop policy if exists {name} on {table}")
        if table in NEWLY_FORCED:
            op.execute(f"alter table {table} no force row level security")
            op.execute(f"alter table {table} disable row level security")
        else:
            op.execute(f"create policy tenant_isolation on {table} using ({mine} or {flag}) "
                       f"with check ({mine} or {flag})")
    op.execute(
        f"do $$ begin if exists (select 1 from pg_roles where rolname = '{LEGACY_APP_ROLE}') then "
        f"grant select, insert, update, delete on all tables in schema public to {LEGACY_APP_ROLE}; "
        f"grant usage, select on all sequences in schema public to {LEGACY_APP_ROLE}; "
        f"revoke update, delete, truncate on ledger_entry from {LEGACY_APP_ROLE}; end if; end $$")
