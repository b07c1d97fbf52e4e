"""platform settings: ``platform_setting``, the typed values admins changed (dispute windows, …)

Revision ID: l12t1_platform_setting
Revises: k11m2_phone_only_customers
Create Date: 2026-12-05 12:40:00

Issue 12. Platform-level (no ``tenant_id``, so no row-level security): tenant hosts may read it,
only the platform role writes it (``migrations.rls.PLATFORM_READ_TABLES``). A key without a row
reads as its default (:data:`app.platform_settings.SETTINGS`).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants

revision = "l12t1_platform_setting"
down_revision = "k11m2_phone_only_customers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "platform_setting",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", postgresql.JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid()),
    )
    apply_grants()


def downgrade():
    op.drop_table("platform_setting")
