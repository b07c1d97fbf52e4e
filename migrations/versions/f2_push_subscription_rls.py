"""push subscriptions: the tenant role sees only those of the logged-in person and of the
business's own people, never every browser's endpoint and keys

Revision ID: f2_push_subscription_rls
Revises: f1_db_roles
Create Date: 2026-12-05 03:20:00

``push_subscription`` holds secrets of other people (endpoint URLs and encryption keys).
The tenant role's policy admits rows of ``app.user_id`` (the logged-in person, set by the
app each transaction) and of people linked to the business in scope (members, customers
with an account: the subqueries run under those tables' own tenant policies); it may write
only the logged-in person's rows. The platform role (which sends pushes) sees every row.
"""
from alembic import op

from migrations.rls import PLATFORM_GROUP, require_groups

revision = "f2_push_subscription_rls"
down_revision = "f1_db_roles"
branch_labels = None
depends_on = None

MINE = "user_id::text = current_setting('app.user_id', true)"


def upgrade():
    require_groups()
    op.execute("alter table push_subscription enable row level security")
    op.execute("alter table push_subscription force row level security")
    op.execute(
        f"create policy own_and_business_people on push_subscription using ({MINE} "
        "or user_id in (select m.user_id from membership m) "
        "or user_id in (select c.user_id from customer c where c.user_id is not null)) "
        f"with check ({MINE})")
    op.execute(f"create policy platform_subscriptions on push_subscription to {PLATFORM_GROUP} "
               "using (true) with check (true)")


def downgrade():
    op.execute("drop policy if exists platform_subscriptions on push_subscription")
    op.execute("drop policy if exists own_and_business_people on push_subscription")
    op.execute("alter table push_subscription no force row level security")
    op.execute("alter table push_subscription disable row level security")
