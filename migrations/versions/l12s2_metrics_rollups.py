"""metrics rollups: per business, day and currency; per staff member and day

Revision ID: l12s2_metrics_rollups
Revises: l12s1_verification
Create Date: 2026-12-05 12:50:00

Issue 12 (metrics). Both tables are tenant tables (``tenant_id`` first in the primary key, RLS
with the tenant and platform policies like every tenant table, :func:`migrations.rls.enable_rls`),
kept by jobs (:mod:`app.metrics.tasks`) and read by the KPI pages instead of ``booking``.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_rls

revision = "l12s2_metrics_rollups"
down_revision = "l12s1_verification"
branch_labels = None
depends_on = None


def upgrade():
    counts = ("bookings", "online", "cancelled", "no_shows", "completed")
    op.create_table(
        "metrics_business_day",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in counts),
        sa.Column("gross_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("customers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("new_customers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("returning_customers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", "currency"),
    )
    op.create_index("metrics_business_day_day", "metrics_business_day", ["day"])
    op.create_table(
        "metrics_staff_day",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("booked_minutes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("available_minutes", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant_id", "day", "staff_id"),
    )
    enable_rls(["metrics_business_day", "metrics_staff_day"])


def downgrade():
    op.drop_table("metrics_staff_day")
    op.drop_table("metrics_business_day")
