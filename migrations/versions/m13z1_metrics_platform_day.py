"""metrics: platform-wide rollups per day (and per city and day) for the console

Revision ID: m13z1_metrics_platform_day
Revises: m13a_job_requests_foundation
Create Date: 2026-12-05 14:40:00

Issue 12 (metrics). The console summed ``metrics_business_day`` (one row per business and day) on
every page view: 365,000 rows for a year. These two platform tables hold the sums per day, kept
by the same jobs; the tenant role cannot touch them (``migrations.rls.PLATFORM_ONLY_TABLES``).
Filled from the existing business rows here, so the console shows history at once.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import apply_grants

revision = "m13z1_metrics_platform_day"
down_revision = "m13a_job_requests_foundation"
branch_labels = None
depends_on = None


def upgrade():
    counts = ("bookings", "online", "cancelled", "no_shows", "completed")
    op.create_table(
        "metrics_platform_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in counts),
        sa.Column("gross_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("customers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("new_customers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("returning_customers", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "currency"),
    )
    op.create_table(
        "metrics_city_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("day", "country", "city"),
    )
    op.execute("""
        insert into metrics_platform_day (day, currency, bookings, online, cancelled, no_shows, completed,
                                          gross_amount, customers, new_customers, returning_customers, updated_at)
        select day, currency, sum(bookings), sum(online), sum(cancelled), sum(no_shows), sum(completed),
               sum(gross_amount), sum(customers), sum(new_customers), sum(returning_customers), now()
          from metrics_business_day group by day, currency
    """)
    op.execute("""
        insert into metrics_city_day (day, country, city, bookings)
        select m.day, t.country, t.city, sum(m.bookings)
          from metrics_business_day m join tenant t on t.id = m.tenant_id
         where t.city <> '' group by m.day, t.country, t.city
    """)
    apply_grants()


def downgrade():
    op.drop_table("metrics_city_day")
    op.drop_table("metrics_platform_day")
