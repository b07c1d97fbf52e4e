"""when a business's public profile last changed (``tenant.profile_updated_at``)

Revision ID: k11f2_profile_updated_at
Revises: k11f1_business_photo
Create Date: 2026-12-05 11:50:00

The sitemap's ``lastmod`` of each business's profile: set when the owner saves the settings or
changes the gallery; ``created_at`` stands in until then.
"""
import sqlalchemy as sa
from alembic import op

revision = "k11f2_profile_updated_at"
down_revision = "k11f1_business_photo"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("tenant", sa.Column("profile_updated_at", sa.DateTime(timezone=True)))


def downgrade():
    op.drop_column("tenant", "profile_updated_at")
