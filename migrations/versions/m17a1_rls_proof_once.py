"""Tenant policies check the app's proof once per statement, not once per row.

Since ``h1_tenant_proof`` every tenant policy read ``tenant_id::text = current_setting(
'app.tenant_id') and plaza_tenant_proven()``. The function is SECURITY DEFINER, so PostgreSQL
never inlines it: it ran (two SHA-256 and a read of ``rls_key``) for every row a statement
looked at. Measured with ``pg_stat_statements`` during ``bench/reminders.py``: 9 million calls,
29 s of the database's time in a 90-second run, most of it in the reminder dispatch's scan.

Now the policies read ``tenant_id = (select plaza_proven_tenant_id())``. The function returns
``app.tenant_id`` as a uuid when ``app.tenant_proof`` is the app's MAC over it, else NULL, and
the scalar sub-select makes it an InitPlan: worked out once per statement. The id and its proof
are read together, in one evaluation, so a statement that changes ``app.tenant_id`` part way
through (``set_config`` in a sub-query) still sees only the business it proved first, or
nothing. As a plain uuid comparison, the test can also use the indexes on ``tenant_id``.

Revision ID: m17a1_rls_proof_once
Revises: m16a2_inquiry_locale
"""
from alembic import op

from migrations.rls import (
    PLATFORM_GROUP,
    TENANT_GROUP,
    apply_grants,
    own_tenant,
    require_groups,
    tenant_policies,
    tenant_tables,
)

revision = "m17a1_rls_proof_once"
down_revision = "m16a2_inquiry_locale"
branch_labels = None
depends_on = None


def _rewrite_policies() -> None:
    """Recreate the tenant policies of every table (and the ``tenant`` row's) in the form
    :func:`migrations.rls.own_tenant` gives for the functions now installed."""
    for table in tenant_tables():
        tenant_policies(table)
    own = own_tenant("id")
    op.execute("drop policy if exists tenant_rows on tenant")
    op.execute(f"create policy tenant_rows on tenant using ({own}) with check ({own})")
    apply_grants()


def upgrade():
    require_groups()
    op.execute(
        "create function plaza_proven_tenant_id() returns uuid language sql stable security definer "
        "set search_path = pg_catalog, public as $$ "
        "select case when coalesce(current_setting('app.tenant_proof', true) = encode(sha256(k.secret || "
        "sha256(k.secret || convert_to(coalesce(current_setting('app.tenant_id', true), ''), 'UTF8'))), 'hex'), "
        "false) then nullif(current_setting('app.tenant_id', true), '')::uuid end "
        "from rls_key k where k.id = 1 $$")
    op.execute("revoke all on function plaza_proven_tenant_id() from public")
    op.execute(f"grant execute on function plaza_proven_tenant_id() to {TENANT_GROUP}, {PLATFORM_GROUP}")
    _rewrite_policies()
    left = op.get_bind().exec_driver_sql(
        "select count(*) from pg_policies where schemaname = 'public' "
        "and (strpos(qual, 'plaza_tenant_proven()') > 0 or strpos(with_check, 'plaza_tenant_proven()') > 0)").scalar()
    if left:
        raise RuntimeError(f"{left} policies still check the proof per row")


def downgrade():
    op.execute("drop function plaza_proven_tenant_id() cascade")  # drops the policies that use it
    _rewrite_policies()
