"""dispatch now: on-demand profiles, operators, requests and offers

Revision ID: m13x1_dispatch
Revises: m13w1_lead_quote_duration
Create Date: 2026-12-05 14:45:00

Issue 13 (X). ``dispatch_request`` is a platform-only table (its ``business_id`` is the business
of the current offer or job, not a tenant key) (``migrations.rls.PLATFORM_ONLY_TABLES``).
``dispatch_profile``, ``dispatch_operator`` and ``dispatch_offer`` are tenant tables with RLS. The
partial unique indexes on ``dispatch_offer`` are the database's guarantees: one live offer per
request, one live offer per operator, one accepted offer per request.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import enable_rls

revision = "m13x1_dispatch"
down_revision = "m13w1_lead_quote_duration"
branch_labels = None
depends_on = None


def _tenant_id() -> sa.Column:
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def upgrade():
    op.create_table(
        "dispatch_profile",
        _tenant_id(),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("services", sa.ARRAY(sa.String(40)), nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id"),
    )
    op.create_table(
        "dispatch_operator",
        _tenant_id(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False, server_default=""),
        sa.Column("online", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("capacity", sa.SmallInteger(), nullable=False, server_default="1"),
        sa.Column("active_jobs", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("completed", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", "user_id", name="dispatch_operator_once"),
        sa.CheckConstraint("capacity between 1 and 10", name="dispatch_operator_capacity"),
        sa.CheckConstraint("active_jobs >= 0", name="dispatch_operator_load"),
    )
    op.create_table(
        "dispatch_request",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True),
        sa.Column("customer_name", sa.String(120), nullable=False, server_default=""),
        sa.Column("service", sa.String(40), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("address_line", sa.String(200), nullable=False, server_default=""),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="SET NULL")),
        sa.Column("operator_id", sa.Uuid()),
        sa.Column("offer_id", sa.Uuid()),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True)),
        sa.Column("tried", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("distance_km", sa.Float()),
        sa.Column("eta_minutes", sa.SmallInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.Column("on_the_way_at", sa.DateTime(timezone=True)),
        sa.Column("arrived_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status in ('searching', 'offered', 'accepted', 'on_the_way', 'arrived', 'done', "
                           "'cancelled', 'unfulfilled')", name="dispatch_request_status"),
        sa.CheckConstraint("status <> 'offered' or offer_id is not null", name="dispatch_request_offer"),
    )
    op.create_index("dispatch_request_status_idx", "dispatch_request", ["status", "offer_expires_at"])
    op.create_table(
        "dispatch_offer",
        _tenant_id(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), sa.ForeignKey("dispatch_request.id", ondelete="CASCADE"), nullable=False),
        sa.Column("operator_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("distance_km", sa.Float(), nullable=False, server_default="0"),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "operator_id"], ["dispatch_operator.tenant_id", "dispatch_operator.id"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("outcome in ('live', 'accepted', 'declined', 'lapsed', 'cancelled')",
                           name="dispatch_offer_outcome"),
    )
    op.create_index("dispatch_offer_live_request", "dispatch_offer", ["request_id"], unique=True,
                    postgresql_where=sa.text("outcome = 'live'"))
    op.create_index("dispatch_offer_live_operator", "dispatch_offer", ["tenant_id", "operator_id"], unique=True,
                    postgresql_where=sa.text("outcome = 'live'"))
    op.create_index("dispatch_offer_accepted_request", "dispatch_offer", ["request_id"], unique=True,
                    postgresql_where=sa.text("outcome = 'accepted'"))
    op.create_index("dispatch_offer_once", "dispatch_offer", ["tenant_id", "request_id", "operator_id"], unique=True)
    enable_rls(["dispatch_profile", "dispatch_operator", "dispatch_offer"])


def downgrade():
    op.drop_table("dispatch_offer")
    op.drop_table("dispatch_request")
    op.drop_table("dispatch_operator")
    op.drop_table("dispatch_profile")
