"""reviews: one verified review per completed booking, with the business's reply

Revision ID: k11h1_reviews
Revises: k11f2_profile_updated_at
Create Date: 2026-12-05 11:30:00

Issue 11 (reviews). ``review`` is a tenant table: ``tenant_id`` first in the primary key,
composite foreign keys to ``booking`` (unique: one review per booking) and ``customer``, and RLS
with the tenant and platform policies like every tenant table (:func:`migrations.rls.enable_rls`).
The partial covering index ``review_visible`` lets the exact aggregates of a business's visible
reviews be computed by an index-only scan.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import enable_rls

revision = "k11h1_reviews"
down_revision = "k11f2_profile_updated_at"
branch_labels = None
depends_on = None

DIMENSIONS = ("quality", "communication", "professionalism", "value")


def upgrade():
    op.create_table(
        "review",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("author_name", sa.String(120), nullable=False, server_default=""),
        sa.Column("service_name", sa.String(200), nullable=False),
        sa.Column("visit_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        *(sa.Column(d, sa.SmallInteger()) for d in DIMENSIONS),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("photo_keys", postgresql.ARRAY(sa.String(200)), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="visible"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.Column("reply_text", sa.Text()),
        sa.Column("replied_at", sa.DateTime(timezone=True)),
        sa.Column("replied_by", sa.Uuid()),
        sa.Column("reply_hidden", sa.Boolean(), nullable=False, server_default="false"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "booking_id"], ["booking.tenant_id", "booking.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "customer_id"], ["customer.tenant_id", "customer.id"],
                                ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "booking_id", name="review_one_per_booking"),
        sa.CheckConstraint("rating between 1 and 5", name="review_rating_range"),
        *(sa.CheckConstraint(f"{d} is null or {d} between 1 and 5", name=f"review_{d}_range") for d in DIMENSIONS),
        sa.CheckConstraint("char_length(text) <= 2000", name="review_text_length"),
        sa.CheckConstraint("reply_text is null or char_length(reply_text) between 1 and 2000",
                           name="review_reply_length"),
        sa.CheckConstraint("status in ('visible', 'hidden', 'removed')", name="review_status"),
        sa.CheckConstraint("cardinality(photo_keys) <= 3", name="review_photo_count"),
    )
    op.create_index("review_visible", "review", ["tenant_id", "created_at"],
                    postgresql_where=sa.text("status = 'visible'"),
                    postgresql_include=["rating", *DIMENSIONS])
    enable_rls(["review"])


def downgrade():
    op.drop_table("review")
