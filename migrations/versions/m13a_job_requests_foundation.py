"""job requests: the customer's request, the providers' leads, and the lead credit ledger

Revision ID: m13a_job_requests_foundation
Revises: l12s2_metrics_rollups
Create Date: 2026-12-05 14:40:00

Issue 13. ``job_request`` is a platform-only table (the tenant role cannot read it).
``tenant.accepts_job_requests`` is the opt-in. ``lead``, ``credit_account`` and ``credit_entry`` are tenant tables (``tenant_id`` first in the
primary key, RLS with the tenant and platform policies). ``credit_entry`` is append-only for
every role (:func:`migrations.rls.apply_grants`).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import enable_rls

revision = "m13a_job_requests_foundation"
down_revision = "l12s2_metrics_rollups"
branch_labels = None
depends_on = None


def _tenant_id() -> sa.Column:
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def upgrade():
    op.create_table(
        "job_request",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("category_slug", sa.String(40),
                  sa.ForeignKey("marketplace_category.slug", onupdate="CASCADE", ondelete="SET NULL")),
        sa.Column("title", sa.String(160), nullable=False, server_default=""),
        sa.Column("details", sa.Text(), nullable=False, server_default=""),
        sa.Column("answers", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("summary", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("photos", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("complexity_score", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("complexity_tier", sa.SmallInteger(), nullable=False, server_default="1"),
        sa.Column("credits_cost", sa.SmallInteger(), nullable=False, server_default="1"),
        sa.Column("postcode", sa.String(20), nullable=False, server_default=""),
        sa.Column("city", sa.String(100), nullable=False, server_default=""),
        sa.Column("country", sa.String(2), nullable=False, server_default=""),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("timing_kind", sa.String(10), nullable=False, server_default="flexible"),
        sa.Column("timing_start", sa.Date()),
        sa.Column("timing_end", sa.Date()),
        sa.Column("contact_name", sa.String(120), nullable=False, server_default=""),
        sa.Column("contact_email", sa.String(254), nullable=False, server_default=""),
        sa.Column("contact_phone", sa.String(32), nullable=False, server_default=""),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True),
        sa.Column("manage_token_hash", sa.String(64), unique=True),
        sa.Column("locale", sa.String(12), nullable=False, server_default="en"),
        sa.Column("routing_round", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("routed_until", sa.DateTime(timezone=True)),
        sa.Column("assigned_business_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="SET NULL")),
        sa.Column("won_lead_id", sa.Uuid()),
        sa.Column("closed_reason", sa.String(40), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("(latitude is null) = (longitude is null)", name="job_request_point_whole"),
        sa.CheckConstraint("complexity_score between 0 and 100", name="job_request_score_range"),
        sa.CheckConstraint("credits_cost >= 0", name="job_request_credits"),
        sa.CheckConstraint(
            "status in ('draft', 'unconfirmed', 'open', 'routed', 'manual', 'quoted', 'booked', 'closed', 'cancelled')",
            name="job_request_status"),
        sa.CheckConstraint("timing_kind in ('flexible', 'range', 'urgent')", name="job_request_timing"),
    )
    op.create_index("job_request_status_idx", "job_request", ["status", "routed_until"])

    op.create_table(
        "lead",
        _tenant_id(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("job_request_id", sa.Uuid(), sa.ForeignKey("job_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("source", sa.String(8), nullable=False, server_default="routed"),
        sa.Column("category_slug", sa.String(40)),
        sa.Column("title", sa.String(160), nullable=False, server_default=""),
        sa.Column("answers_summary", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("postcode", sa.String(20), nullable=False, server_default=""),
        sa.Column("city", sa.String(100), nullable=False, server_default=""),
        sa.Column("distance_km", sa.Float()),
        sa.Column("timing", sa.String(80), nullable=False, server_default=""),
        sa.Column("complexity_tier", sa.SmallInteger(), nullable=False, server_default="1"),
        sa.Column("credits_cost", sa.SmallInteger(), nullable=False, server_default="1"),
        sa.Column("routing_tier", sa.SmallInteger()),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("score_parts", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_by", sa.Uuid()),
        sa.Column("contact_due_at", sa.DateTime(timezone=True)),
        sa.Column("contacted_at", sa.DateTime(timezone=True)),
        sa.Column("customer_id", sa.Uuid()),
        sa.Column("contact_name", sa.String(120), nullable=False, server_default=""),
        sa.Column("contact_email", sa.String(254), nullable=False, server_default=""),
        sa.Column("contact_phone", sa.String(32), nullable=False, server_default=""),
        sa.Column("quote_min_amount", sa.Integer()),
        sa.Column("quote_max_amount", sa.Integer()),
        sa.Column("quote_currency", sa.String(3)),
        sa.Column("quote_message", sa.Text(), nullable=False, server_default=""),
        sa.Column("quoted_at", sa.DateTime(timezone=True)),
        sa.Column("booking_id", sa.Uuid()),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("spam_reported_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", "job_request_id", name="lead_once_per_provider"),
        sa.CheckConstraint(
            "status in ('offered', 'claimed', 'quoted', 'won', 'lost', 'refunded', 'expired', 'declined')",
            name="lead_status"),
        sa.CheckConstraint("source in ('routed', 'manual')", name="lead_source"),
        sa.CheckConstraint("credits_cost >= 0", name="lead_credits"),
        sa.CheckConstraint("quote_min_amount is null or (quote_min_amount >= 0 and quote_max_amount >= quote_min_amount"
                           " and quote_currency is not null)", name="lead_quote_range"),
    )
    op.create_index("lead_status_idx", "lead", ["tenant_id", "status", "offered_at"])
    op.create_index("lead_job_request_idx", "lead", ["job_request_id"])

    op.create_table(
        "credit_account",
        _tenant_id(),
        sa.Column("balance", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
        sa.CheckConstraint("balance >= 0", name="credit_account_not_negative"),
    )
    op.create_table(
        "credit_entry",
        _tenant_id(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(), nullable=False, unique=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_before", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("lead_id", sa.Uuid()),
        sa.Column("checkout_session_id", sa.String(255)),
        sa.Column("money_amount", sa.Integer()),
        sa.Column("money_currency", sa.String(3)),
        sa.Column("actor_user_id", sa.Uuid()),
        sa.Column("note", sa.String(200), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="credit_entry_idempotent"),
        sa.CheckConstraint("balance_after >= 0 and balance_before >= 0", name="credit_entry_not_negative"),
        sa.CheckConstraint("balance_after = balance_before + amount", name="credit_entry_adds_up"),
        sa.CheckConstraint("amount <> 0", name="credit_entry_moves"),
        sa.CheckConstraint("kind in ('purchase', 'claim', 'refund', 'grant', 'adjustment')", name="credit_entry_kind"),
    )
    op.add_column("tenant", sa.Column("accepts_job_requests", sa.Boolean(), nullable=False, server_default="false"))
    enable_rls(["lead", "credit_account", "credit_entry"])


def downgrade():
    op.drop_column("tenant", "accepts_job_requests")
    op.drop_table("credit_entry")
    op.drop_table("credit_account")
    op.drop_table("lead")
    op.drop_table("job_request")
