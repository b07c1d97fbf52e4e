"""uncollected_fee: a domain table for fees the money policy asked for and could not collect

Revision ID: i9b_uncollected_fee
Revises: i9a_outbox_dedup_key
Create Date: 2026-12-05 06:00:00

Staff saw "fee not collected" by reading ``fee.uncollected`` rows of ``outbox_event``; the
outbox is for telling the rest of the system what happened, not a table to query. This adds
``uncollected_fee`` (tenant-scoped, RLS with the tenant and platform policies, one row per
policy event: unique ``(tenant_id, policy_event_id)``) and backfills it from the existing
``fee.uncollected`` outbox rows (their payload's ``event`` is the policy event). The outbox
events stay: notifications still fan them out to staff.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_rls

revision = "i9b_uncollected_fee"
down_revision = "i9a_outbox_dedup_key"
branch_labels = None
depends_on = None


#: Backfill: one row per policy event, the oldest record wins; events whose booking is gone are
#: skipped (the FK would refuse them). The tables force RLS on their owner too, so the statement
#: first turns on the platform flag for its transaction (the owner is in ``plaza_platform``).
BACKFILL = (
    "select set_config('app.platform', 'on', true); "
    "insert into uncollected_fee (tenant_id, id, booking_id, policy_event_id, amount, currency, reason, code, "
    "payment_intent, created_at) "
    "select distinct on (o.tenant_id, coalesce(o.payload ->> 'event', o.payload ->> 'key', o.id::text)) "
    "o.tenant_id, gen_random_uuid(), (o.payload ->> 'booking_id')::uuid, "
    "left(coalesce(o.payload ->> 'event', o.payload ->> 'key', o.id::text), 64), "
    "greatest(coalesce((o.payload ->> 'amount')::integer, 0), 0), upper(coalesce(o.payload ->> 'currency', '')), "
    "left(coalesce(o.payload ->> 'reason', ''), 300), left(o.payload ->> 'code', 64), "
    "left(o.payload ->> 'payment_intent', 64), o.created_at "
    "from outbox_event o join booking b on b.tenant_id = o.tenant_id and b.id::text = o.payload ->> 'booking_id' "
    "where o.kind = 'fee.uncollected' "
    "order by o.tenant_id, coalesce(o.payload ->> 'event', o.payload ->> 'key', o.id::text), o.created_at "
    "on conflict do nothing"
)


def upgrade():
    op.create_table(
        "uncollected_fee",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("policy_event_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False, server_default=""),
        sa.Column("code", sa.String(64)),
        sa.Column("payment_intent", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "booking_id"], ["booking.tenant_id", "booking.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "policy_event_id", name="uncollected_fee_once"),
        sa.CheckConstraint("amount >= 0", name="uncollected_fee_amount"),
    )
    op.create_index("uncollected_fee_booking", "uncollected_fee", ["tenant_id", "booking_id"])
    op.execute(BACKFILL)
    enable_rls(["uncollected_fee"])


def downgrade():
    op.drop_table("uncollected_fee")
