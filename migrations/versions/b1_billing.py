"""billing: platform-level stripe_webhook_event ledger, per-tenant billing_subscription

Revision ID: b1_billing
Revises: 64391968a081
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import enable_rls, grant_app_role

revision = "b1_billing"
down_revision = "64391968a081"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "stripe_webhook_event",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("processed_at", TS),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error", sa.Text()),
    )
    op.create_index("stripe_webhook_event_unprocessed", "stripe_webhook_event", ["received_at"],
                    postgresql_where=sa.text("processed_at is null"))
    op.create_table(
        "billing_subscription",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("stripe_customer_id", sa.String(255), nullable=False, index=True),
        sa.Column("stripe_subscription_id", sa.String(255), index=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("price_id", sa.String(255)),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("current_period_end", TS),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("trial_end", TS),
        sa.Column("past_due_since", TS),
        sa.Column("latest_invoice_id", sa.String(255)),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", name="billing_subscription_one"),
    )
    enable_rls(["billing_subscription"])
    grant_app_role()


def downgrade():
    op.drop_table("billing_subscription")
    op.drop_table("stripe_webhook_event")
