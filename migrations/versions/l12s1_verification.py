"""verification: a business's documents behind the verified badge, and the listing's flag

Revision ID: l12s1_verification
Revises: l12r1_disputes
Create Date: 2026-12-05 12:40:00

Issue 12 (business verification). ``verification_document`` is a tenant table (``tenant_id``
first in the primary key, RLS with the tenant and platform policies like every tenant table,
:func:`migrations.rls.enable_rls`). ``marketplace_listing.verified`` is the badge the public
sees, recomputed from the documents by the platform role.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_rls

revision = "l12s1_verification"
down_revision = "l12r1_disputes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "verification_document",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("uploaded_by", sa.Uuid()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Uuid()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reminded_days", sa.SmallInteger()),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.CheckConstraint("kind in ('licence', 'insurance', 'certification')", name="verification_document_kind"),
        sa.CheckConstraint("status in ('pending', 'approved', 'rejected', 'expired')",
                           name="verification_document_status"),
    )
    op.create_index("verification_document_status_idx", "verification_document", ["status", "expires_on"])
    op.add_column("marketplace_listing",
                  sa.Column("verified", sa.Boolean(), nullable=False, server_default="false"))
    enable_rls(["verification_document"])


def downgrade():
    op.drop_column("marketplace_listing", "verified")
    op.drop_table("verification_document")
