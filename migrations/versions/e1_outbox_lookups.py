"""outbox lookups: the dedup key of money and subscription events, and uncollected fees by booking

Revision ID: e1_outbox_lookups
Revises: d1_staff_invitation
"""
from alembic import op

revision = "e1_outbox_lookups"
down_revision = "d1_staff_invitation"
branch_labels = None
depends_on = None


def upgrade():
    # "was this money event already written?" (emit_money_event, _emit_once): by kind and key
    op.execute("CREATE INDEX outbox_event_kind_key ON outbox_event (tenant_id, kind, (payload ->> 'key'))")
    # the staff board's "fee not collected" per booking (payment_summaries)
    op.execute("CREATE INDEX outbox_event_fee_uncollected ON outbox_event (tenant_id, (payload ->> 'booking_id')) "
               "WHERE kind = 'fee.uncollected'")


def downgrade():
    op.execute("DROP INDEX IF EXISTS outbox_event_fee_uncollected")
    op.execute("DROP INDEX IF EXISTS outbox_event_kind_key")
