"""The tenant id of a transaction must carry a proof only the app can make.

Before this, a statement injected on a tenant host could ``set_config('app.tenant_id', <another
business>)`` and read that business's rows. Now every tenant policy also requires
``plaza_tenant_proven()``: ``app.tenant_proof`` must equal a MAC over ``app.tenant_id`` keyed
with a random 256-bit key in ``rls_key``. The key is readable by the platform role only (the
app reads it once per process through it, :func:`app.tenants.guard.tenant_proof`); the tenant
role can neither read it nor compute a proof for another business. The MAC is
``sha256(key || sha256(key || tenant_id))`` (built-in ``sha256``; pgcrypto is not needed).

Revision ID: h1_tenant_proof
Revises: g1_tenant_row_rls
"""
from alembic import op

from migrations.rls import PLATFORM_GROUP, TENANT_GROUP, apply_grants, require_groups, tenant_policies, tenant_tables

revision = "h1_tenant_proof"
down_revision = "g1_tenant_row_rls"
branch_labels = None
depends_on = None

OWN = "id::text = current_setting('app.tenant_id', true)"


def upgrade():
    require_groups()
    op.execute("create table rls_key (id integer primary key default 1 check (id = 1), secret bytea not null)")
    op.execute("insert into rls_key (secret) values (sha256(convert_to("
               "gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')))")
    op.execute(
        "create function plaza_tenant_proven() returns boolean language sql stable security definer "
        "set search_path = pg_catalog, public as $$ "
        "select coalesce(current_setting('app.tenant_proof', true) = encode(sha256(k.secret || sha256(k.secret || "
        "convert_to(coalesce(current_setting('app.tenant_id', true), ''), 'UTF8'))), 'hex'), false) "
        "from rls_key k where k.id = 1 $$")
    op.execute("revoke all on function plaza_tenant_proven() from public")
    op.execute(f"grant execute on function plaza_tenant_proven() to {TENANT_GROUP}, {PLATFORM_GROUP}")
    for table in tenant_tables():
        tenant_policies(table)
    proven = f"({OWN} and plaza_tenant_proven())"
    op.execute("drop policy if exists tenant_rows on tenant")
    op.execute(f"create policy tenant_rows on tenant using ({proven}) with check ({proven})")
    apply_grants()


def downgrade():
    op.execute("drop policy if exists tenant_rows on tenant")
    op.execute(f"create policy tenant_rows on tenant using ({OWN}) with check ({OWN})")
    op.execute("drop function plaza_tenant_proven() cascade")  # drops the proven policies too
    op.execute("drop table rls_key")
    for table in tenant_tables():
        tenant_policies(table)
