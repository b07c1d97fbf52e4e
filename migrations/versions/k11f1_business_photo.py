"""a business's photo gallery (``business_photo``)

Revision ID: k11f1_business_photo
Revises: k11m2_phone_only_customers
Create Date: 2026-12-05 11:40:00

Issue 11 (business profiles): up to 12 photos per business with a caption, an order and a
thumbnail made by a job. A tenant table: ``tenant_id`` first in the primary key, RLS with the
tenant and platform policies like every tenant table.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_rls

revision = "k11f1_business_photo"
down_revision = "k11m2_phone_only_customers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "business_photo",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("thumbnail_key", sa.String(200)),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("caption", sa.String(200), nullable=False, server_default=""),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.CheckConstraint("char_length(caption) <= 200", name="business_photo_caption"),
        sa.CheckConstraint("width > 0 and height > 0", name="business_photo_size"),
    )
    op.create_index("business_photo_order", "business_photo", ["tenant_id", "position"])
    enable_rls(["business_photo"])


def downgrade():
    op.drop_table("business_photo")
