"""routing: every candidate of every routing round (job_routing_candidate)

Revision ID: m13v1_routing_candidates
Revises: m13u1_job_questions
Create Date: 2026-12-05 14:30:00

Issue 13 (V). ``job_routing_candidate`` is a platform-only table (no ``tenant_id``; listed in
``migrations.rls.PLATFORM_ONLY_TABLES``, so the tenant role cannot touch it): the console shows
from it why each provider did or did not get a job request.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants

revision = "m13v1_routing_candidates"
down_revision = "m13u1_job_questions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "job_routing_candidate",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("job_request_id", sa.Uuid(), sa.ForeignKey("job_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("round", sa.SmallInteger(), nullable=False),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("business_name", sa.String(120), nullable=False, server_default=""),
        sa.Column("tier", sa.SmallInteger()),
        sa.Column("distance_km", sa.Float()),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("score_parts", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("rank", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("lead_id", sa.Uuid()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job_request_id", "round", "business_id", name="job_routing_candidate_once"),
        sa.CheckConstraint("outcome in ('offered', 'not_picked', 'manual')", name="job_routing_candidate_outcome"),
    )
    op.create_index("job_routing_candidate_request_idx", "job_routing_candidate", ["job_request_id", "round"])
    apply_grants()


def downgrade():
    op.drop_table("job_routing_candidate")
