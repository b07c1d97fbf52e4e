"""lead: the quote's estimated duration

Revision ID: m13w1_lead_quote_duration
Revises: m13v1_routing_candidates
Create Date: 2026-12-05 14:30:00

Issue 13 (W). A provider's quote is a price range plus an estimated duration in minutes
(``lead.quote_duration_minutes``, set with the range; the customer's confirmation books that long).
"""
import sqlalchemy as sa
from alembic import op

revision = "m13w1_lead_quote_duration"
down_revision = "m13v1_routing_candidates"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("lead", sa.Column("quote_duration_minutes", sa.Integer()))
    op.create_check_constraint("lead_quote_duration", "lead",
                               "quote_duration_minutes is null or quote_duration_minutes between 1 and 20160")


def downgrade():
    op.drop_constraint("lead_quote_duration", "lead", type_="check")
    op.drop_column("lead", "quote_duration_minutes")
