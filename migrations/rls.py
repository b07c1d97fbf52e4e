"""Row-level security helpers for migrations.

Each tenant table gets ``ENABLE`` + ``FORCE ROW LEVEL SECURITY`` and one policy that
admits rows of the transaction's ``app.tenant_id`` or any row when ``app.platform`` is
``on`` (set by ``platform_scope``). The app role gets DML grants only.
"""

from alembic import op

APP_ROLE = "plaza_app"


def enable_rls(tables: list[str]) -> None:
    """Turn on forced RLS with the tenant policy for ``tables`` and grant DML to the app role."""
    for table in tables:
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(
            f"create policy tenant_isolation on {table} "
            "using (tenant_id::text = current_setting('app.tenant_id', true) "
            "or current_setting('app.platform', true) = 'on') "
            "with check (tenant_id::text = current_setting('app.tenant_id', true) "
            "or current_setting('app.platform', true) = 'on')"
        )
    grant_app_role()


def grant_app_role() -> None:
    """Grant DML on every table to the app role, when that role exists."""
    op.execute(
        f"do $$ begin if exists (select 1 from pg_roles where rolname = '{APP_ROLE}') then "
        f"grant select, insert, update, delete on all tables in schema public to {APP_ROLE}; "
        f"grant usage, select on all sequences in schema public to {APP_ROLE}; "
        # The money ledger stays append-only for the app, whatever migration ran last.
        f"if to_regclass('public.ledger_entry') is not null then "
        f"revoke update, delete, truncate on ledger_entry from {APP_ROLE}; end if; end if; end $$"
    )
