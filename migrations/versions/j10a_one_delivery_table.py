"""one delivery table: ``notification_delivery`` folded into ``delivery``

Revision ID: j10a_one_delivery_table
Revises: i9b_uncollected_fee
Create Date: 2026-12-05 08:30:00

Every outgoing message on every channel is now one row of ``delivery``: a notification's
delivery (``notification_id``, ``user_id``) or a direct one to someone without an account
(both null). ``delivery`` gains the columns of ``notification_delivery`` (``notification_id``,
``user_id``, ``provider_id``, ``log``, ``not_before``, ``updated_at``); its primary key becomes
``id`` alone and ``tenant_id`` nullable (a person's account-wide notifications have no
business). Every ``notification_delivery`` row is copied over with its status, attempts,
errors, times and history (its dedup key ``notification:<notification id>:<channel>``, its
subject the notification's title), then the table is dropped.

Row-level security: ``delivery`` holds a person's account-wide rows now, so it gets the
person-table policies (migrations/rls.py ``PERSON_TABLES``): the tenant role sees its business's
rows and the logged-in person's rows without a business; the platform role reads and writes them.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants, tenant_policies

revision = "j10a_one_delivery_table"
down_revision = "i9b_uncollected_fee"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

#: The copy runs with the platform flag on (both tables force RLS on their owner too).
MOVE = (
    "select set_config('app.platform', 'on', true); "
    "insert into delivery (id, tenant_id, dedup_key, notification_id, user_id, channel, recipient, subject, status, "
    "attempts, error, provider_id, log, not_before, claimed_at, sent_at, created_at, updated_at) "
    "select d.id, d.tenant_id, 'notification:' || d.notification_id::text || ':' || d.channel, d.notification_id, "
    "d.user_id, d.channel, d.recipient, left(coalesce(n.title, ''), 250), d.status, d.attempts, d.error, "
    "d.provider_id, d.log, d.not_before, d.claimed_at, d.sent_at, d.created_at, d.updated_at "
    "from notification_delivery d left join notification n on n.id = d.notification_id "
    "on conflict do nothing"
)

BACK = (
    "select set_config('app.platform', 'on', true); "
    "insert into notification_delivery (id, notification_id, user_id, tenant_id, channel, recipient, status, "
    "attempts, error, provider_id, log, not_before, claimed_at, sent_at, created_at, updated_at) "
    "select id, notification_id, user_id, tenant_id, channel, recipient, status, attempts, error, provider_id, "
    "log, not_before, claimed_at, sent_at, created_at, updated_at from delivery where notification_id is not null; "
    "delete from delivery where notification_id is not null or tenant_id is null"
)


def upgrade():
    op.drop_constraint("delivery_pkey", "delivery", type_="primary")
    op.create_primary_key("delivery_pkey", "delivery", ["id"])
    op.alter_column("delivery", "tenant_id", nullable=True)
    op.alter_column("delivery", "dedup_key", type_=sa.String(250))
    op.alter_column("delivery", "recipient", type_=sa.String(1000))
    op.add_column("delivery", sa.Column("notification_id", sa.Uuid(),
                                        sa.ForeignKey("notification.id", ondelete="CASCADE"), nullable=True))
    op.add_column("delivery", sa.Column("user_id", sa.Uuid(),
                                        sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=True))
    op.add_column("delivery", sa.Column("provider_id", sa.String(200), nullable=True))
    op.add_column("delivery", sa.Column("log", postgresql.JSONB(), nullable=False, server_default="[]"))
    op.add_column("delivery", sa.Column("not_before", TS, nullable=True))
    op.add_column("delivery", sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()))
    op.alter_column("delivery", "log", server_default=None)
    op.alter_column("delivery", "updated_at", server_default=None)
    op.drop_constraint("delivery_tenant_id_dedup_key_key", "delivery", type_="unique")
    op.create_unique_constraint("delivery_dedup_key", "delivery", ["tenant_id", "dedup_key"])
    op.create_unique_constraint("delivery_notification_channel", "delivery", ["notification_id", "channel"])
    op.create_index("ix_delivery_user_id", "delivery", ["user_id"])
    op.create_index("delivery_tenant_user", "delivery", ["tenant_id", "user_id"])
    op.create_index("delivery_open", "delivery", ["status", "claimed_at"],
                    postgresql_where=sa.text("status in ('queued', 'sending')"))
    op.execute(MOVE)
    op.drop_table("notification_delivery")
    tenant_policies("delivery")
    apply_grants()


def downgrade():
    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("notification_id", sa.Uuid(), sa.ForeignKey("notification.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(200), nullable=True),
        sa.Column("log", postgresql.JSONB(), nullable=False),
        sa.Column("not_before", TS, nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("notification_id", "channel"),
    )
    op.create_index("ix_notification_delivery_user_id", "notification_delivery", ["user_id"])
    op.create_index("notification_delivery_tenant", "notification_delivery", ["tenant_id", "user_id"])
    op.execute(BACK)
    tenant_policies("notification_delivery")
    for name in ("tenant_rows", "platform_rows", "platform_person_rows"):  # they read user_id
        op.execute(f"drop policy if exists {name} on delivery")
    op.drop_index("delivery_open", "delivery")
    op.drop_index("delivery_tenant_user", "delivery")
    op.drop_index("ix_delivery_user_id", "delivery")
    op.drop_constraint("delivery_notification_channel", "delivery", type_="unique")
    op.drop_constraint("delivery_dedup_key", "delivery", type_="unique")
    op.create_unique_constraint("delivery_tenant_id_dedup_key_key", "delivery", ["tenant_id", "dedup_key"])
    for column in ("updated_at", "not_before", "log", "provider_id", "user_id", "notification_id"):
        op.drop_column("delivery", column)
    op.alter_column("delivery", "recipient", type_=sa.String(254))
    op.alter_column("delivery", "dedup_key", type_=sa.String(200))
    op.alter_column("delivery", "tenant_id", nullable=False)
    op.drop_constraint("delivery_pkey", "delivery", type_="primary")
    op.create_primary_key("delivery_pkey", "delivery", ["tenant_id", "id"])
    tenant_policies("delivery")
    apply_grants()
