"""job requests: the wizard's questions (``job_question``) and complexity tiers (``job_complexity_tier``)

Revision ID: m13u1_job_questions
Revises: m13z1_metrics_platform_day
Create Date: 2026-12-05 14:30:00

Issue 13 (U). Platform tables (no ``tenant_id``): tenant hosts may read them, only the platform
role writes them (``migrations.rls.PLATFORM_READ_TABLES``). With no tier rows the code's seed
tiers apply (1 to 5 credits).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants

revision = "m13u1_job_questions"
down_revision = "m13z1_metrics_platform_day"
branch_labels = None
depends_on = None


def _category() -> sa.Column:
    return sa.Column("category_slug", sa.String(40),
                     sa.ForeignKey("marketplace_category.slug", onupdate="CASCADE", ondelete="CASCADE"))


def upgrade():
    op.create_table(
        "job_question",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _category(),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("help_text", sa.String(400), nullable=False, server_default=""),
        sa.Column("required", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("options", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("weight", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("number_cap", sa.Integer(), nullable=False, server_default="10"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind in ('short_text', 'long_text', 'single_choice', 'multiple_choice', 'number', "
                           "'date', 'yes_no', 'photo')", name="job_question_kind"),
        sa.CheckConstraint("weight >= 0 and weight <= 1000", name="job_question_weight"),
        sa.CheckConstraint("number_cap >= 1", name="job_question_number_cap"),
    )
    op.create_index("job_question_category_idx", "job_question", ["category_slug", "position"])
    op.create_table(
        "job_complexity_tier",
        sa.Column("id", sa.Uuid(), primary_key=True),
        _category(),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("min_score", sa.SmallInteger(), nullable=False),
        sa.Column("credits", sa.SmallInteger(), nullable=False),
        sa.UniqueConstraint("category_slug", "tier", name="job_complexity_tier_once"),
        sa.CheckConstraint("min_score between 0 and 100", name="job_complexity_tier_score"),
        sa.CheckConstraint("tier between 1 and 9", name="job_complexity_tier_tier"),
        sa.CheckConstraint("credits between 0 and 100", name="job_complexity_tier_credits"),
    )
    apply_grants()


def downgrade():
    op.drop_table("job_complexity_tier")
    op.drop_table("job_question")
