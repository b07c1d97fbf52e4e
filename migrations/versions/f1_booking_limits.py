"""booking limits: a business's hourly cap on public bookings (default 60)

Revision ID: f1_booking_limits
Revises: f2_push_subscription_rls
"""
import sqlalchemy as sa
from alembic import op

revision = "f1_booking_limits"
down_revision = "f2_push_subscription_rls"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tenant", sa.Column("public_bookings_per_hour", sa.Integer(), nullable=False, server_default="60"))
    op.create_check_constraint("tenant_public_bookings_per_hour_range", "tenant",
                               "public_bookings_per_hour between 1 and 10000")


def downgrade():
    op.drop_constraint("tenant_public_bookings_per_hour_range", "tenant", type_="check")
    op.drop_column("tenant", "public_bookings_per_hour")
