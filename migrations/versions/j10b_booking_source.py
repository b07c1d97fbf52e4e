"""booking.source: where a booking came from (online, phone, walk-in)

Revision ID: j10b_booking_source
Revises: j10a_one_delivery_table
Create Date: 2026-12-05 08:30:00

Front-desk bookings (issue 10) are entered by staff for a phone call or a customer at the
counter; the storefront and the API book ``online``. Existing rows are ``online`` (every
booking so far came from the storefront or the API). A check keeps the value to the three
known sources. No new table, so no new RLS policy: ``booking`` keeps its own.
"""
import sqlalchemy as sa
from alembic import op

revision = "j10b_booking_source"
down_revision = "j10a_one_delivery_table"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("booking", sa.Column("source", sa.String(16), nullable=False, server_default="online"))
    op.create_check_constraint("booking_source", "booking", "source in ('online', 'phone', 'walk_in')")


def downgrade() -> None:
    op.drop_constraint("booking_source", "booking", type_="check")
    op.drop_column("booking", "source")
