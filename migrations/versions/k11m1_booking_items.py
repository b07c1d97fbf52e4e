"""booking items: several services in one booking, back to back with one staff member

Revision ID: k11m1_booking_items
Revises: k11a_marketplace_foundation
Create Date: 2026-12-05 11:30:00

Issue 10 ("pick … service(s)"). ``booking_item`` is a tenant table hanging off ``booking``
(composite foreign keys to ``booking`` and ``service``, cascade), with RLS and the tenant and
platform policies like every tenant table. Each item snapshots the service's name, duration
(minutes), price (minor units + currency) and buffers (minutes) when booked. The booking keeps
its overall ``starts_at``/``ends_at`` and blocked range, so the ``booking_no_overlap`` exclusion
constraint still guarantees no double booking.

Every existing booking gets one item (its service, its appointment length, its price and the
buffers its blocked range shows). The downgrade drops the table (single-service bookings lose
nothing: the booking row has kept its service and price).
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_rls

revision = "k11m1_booking_items"
down_revision = "k11a_marketplace_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "booking_item",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("price_amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("buffer_before_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_after_minutes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "booking_id"], ["booking.tenant_id", "booking.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id", "service_id"], ["service.tenant_id", "service.id"], ondelete="CASCADE"),
        sa.UniqueConstraint("tenant_id", "booking_id", "position", name="booking_item_position"),
        sa.CheckConstraint("duration_minutes > 0", name="booking_item_duration"),
        sa.CheckConstraint("price_amount >= 0", name="booking_item_price"),
    )
    op.create_index("ix_booking_item_booking_id", "booking_item", ["booking_id"])
    enable_rls(["booking_item"])
    backfill_items(op.get_bind())


def backfill_items(bind) -> int:
    """One item per booking without items (its service, length, price and buffers); returns how many.
    The tables force RLS on their owner too: the platform flag admits every row for this transaction."""
    bind.execute(sa.text("select set_config('app.platform', 'on', true)"))
    return bind.execute(sa.text(
        "insert into booking_item (tenant_id, id, booking_id, service_id, position, name, duration_minutes, "
        "price_amount, currency, buffer_before_minutes, buffer_after_minutes) "
        "select b.tenant_id, gen_random_uuid(), b.id, b.service_id, 0, s.name, "
        "greatest(1, (extract(epoch from b.ends_at - b.starts_at) / 60)::int), greatest(b.price_amount, 0), "
        "b.currency, (extract(epoch from b.starts_at - b.blocked_from) / 60)::int, "
        "(extract(epoch from b.blocked_until - b.ends_at) / 60)::int "
        "from booking b join service s on s.tenant_id = b.tenant_id and s.id = b.service_id "
        "where not exists (select 1 from booking_item i where i.tenant_id = b.tenant_id and i.booking_id = b.id)"
    )).rowcount


def downgrade():
    op.drop_index("ix_booking_item_booking_id", table_name="booking_item")
    op.drop_table("booking_item")
