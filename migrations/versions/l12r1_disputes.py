"""disputes: disputes and refund requests on paid bookings, and their private evidence files

Revision ID: l12r1_disputes
Revises: l12t2_broadcasts
Create Date: 2026-12-05 12:45:00

Issue 12 (disputes and refund requests). ``dispute`` and ``dispute_evidence`` are tenant
tables: ``tenant_id`` first in the primary key, composite foreign keys, RLS with the tenant and
platform policies like every tenant table (:func:`migrations.rls.enable_rls`).
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_rls

revision = "l12r1_disputes"
down_revision = "l12t2_broadcasts"
branch_labels = None
depends_on = None


def _tenant_col():
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def upgrade():
    op.create_table(
        "dispute",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("customer_user_id", sa.Uuid()),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("paid_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("business_due_at", sa.DateTime(timezone=True)),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.Column("business_answer", sa.Text(), nullable=False),
        sa.Column("business_answered_at", sa.DateTime(timezone=True)),
        sa.Column("escalated_at", sa.DateTime(timezone=True)),
        sa.Column("decision", sa.String(16)),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("refund_amount", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.String(64)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.Uuid()),
        sa.Column("stripe_dispute_id", sa.String(64)),
        sa.Column("stripe_status", sa.String(32)),
        sa.Column("stripe_evidence_due_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "booking_id"], ["booking.tenant_id", "booking.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "stripe_dispute_id", name="dispute_stripe_unique"),
        sa.CheckConstraint("kind in ('dispute', 'refund_request')", name="dispute_kind"),
        sa.CheckConstraint("status in ('open', 'awaiting_business', 'escalated', 'decided', 'closed')",
                           name="dispute_status"),
        sa.CheckConstraint("refund_amount >= 0 and refund_amount <= paid_amount", name="dispute_refund_range"),
    )
    op.create_index("dispute_status_due", "dispute", ["status", "business_due_at"])
    op.create_table(
        "dispute_evidence",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dispute_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("storage_key", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "dispute_id"], ["dispute.tenant_id", "dispute.id"], ondelete="CASCADE"),
        sa.CheckConstraint("party in ('customer', 'business', 'platform')", name="dispute_evidence_party"),
    )
    enable_rls(["dispute", "dispute_evidence"])


def downgrade():
    op.drop_table("dispute_evidence")
    op.drop_table("dispute")
