"""the tenant role may change only its own business's row of ``tenant``, and sees only the
logged-in person's account-wide notifications, deliveries and marketing consents

Revision ID: g1_tenant_row_rls
Revises: f1_booking_limits
Create Date: 2026-12-05 04:00:00

``tenant`` (name, slug, suspension, limits) had no row-level security: the tenant role
serving one business could update any business's row. It now has forced RLS:

* ``tenant_rows`` (every role): the row whose ``id`` is ``app.tenant_id`` (read and update;
  INSERT and DELETE stay revoked from the tenant role);
* ``platform_rows`` (``plaza_platform``): any row while ``app.platform`` is ``on``;
* ``platform_lookup`` (``plaza_platform``, SELECT): every row, for the host lookup by slug
  and signup's slug check, which run before any business is in scope;
* ``platform_signup`` (``plaza_platform``, INSERT): signup creates the business.

``notification``, ``notification_delivery`` and ``marketing_consent`` rows without a
business (``tenant_id`` null) admitted every person's rows on the tenant role; now only
those of ``app.user_id`` (migrations/rls.py, ``tenant_policies``).
"""
from alembic import op

from migrations.rls import PERSON_TABLES, PLATFORM_GROUP, require_groups, tenant_policies

revision = "g1_tenant_row_rls"
down_revision = "f1_booking_limits"
branch_labels = None
depends_on = None

FLAG = "current_setting('app.platform', true) = 'on'"
OWN = "id::text = current_setting('app.tenant_id', true)"
TENANT_POLICIES = ("tenant_rows", "platform_rows", "platform_lookup", "platform_signup")


def upgrade():
    require_groups()
    for table in PERSON_TABLES:
        tenant_policies(table)
    op.execute("alter table tenant enable row level security")
    op.execute("alter table tenant force row level security")
    for name in TENANT_POLICIES:
        op.execute(f"drop policy if exists {name} on tenant")
    op.execute(f"create policy tenant_rows on tenant using ({OWN}) with check ({OWN})")
    op.execute(f"create policy platform_rows on tenant to {PLATFORM_GROUP} using ({FLAG}) with check ({FLAG})")
    op.execute(f"create policy platform_lookup on tenant for select to {PLATFORM_GROUP} using (true)")
    op.execute(f"create policy platform_signup on tenant for insert to {PLATFORM_GROUP} with check (true)")


def downgrade():
    for name in TENANT_POLICIES:
        op.execute(f"drop policy if exists {name} on tenant")
    op.execute("alter table tenant no force row level security")
    op.execute("alter table tenant disable row level security")
    mine = "(tenant_id::text = current_setting('app.tenant_id', true) or tenant_id is null)"
    for table in PERSON_TABLES:
        op.execute(f"drop policy if exists tenant_rows on {table}")
        op.execute(f"create policy tenant_rows on {table} using ({mine}) with check ({mine})")
