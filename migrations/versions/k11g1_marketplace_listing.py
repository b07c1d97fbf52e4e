"""marketplace listing: the platform read model of listed businesses that apex search reads

Revision ID: k11g1_marketplace_listing
Revises: k11i1_community
Create Date: 2026-12-05 11:40:00

Issue 11 (discovery). ``marketplace_listing`` is platform-level like ``tenant``: one row per
business, keyed by ``business_id`` (not ``tenant_id``, so it is not a tenant table and carries no
tenant policies); tenant hosts may read it and never write it (``apply_grants``:
``PLATFORM_READ_TABLES``, which names both tables). It holds only what a business shows publicly. Indexes: a GIN over the
full-text document; ``marketplace_word`` holds the documents' words with a trigram GIN (pg_trgm),
through which a misspelt query word finds the words it means (``barbr`` finds barbers); and
a GiST over ``earth``, the point as a 3-D ``cube`` on the Earth's sphere (km), for radius search:
the same representation as earthdistance's ``ll_to_earth``, but earthdistance needs a superuser
to install and cube and pg_trgm are trusted extensions the owner may create.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants

revision = "k11g1_marketplace_listing"
down_revision = "k11i1_community"
branch_labels = None
depends_on = None


def upgrade():
    for ext in ("pg_trgm", "cube"):
        op.execute(f"create extension if not exists {ext}")
    op.create_table(
        "marketplace_listing",
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("category_slug", sa.String(40), sa.ForeignKey(
            "marketplace_category.slug", onupdate="CASCADE", ondelete="SET NULL")),
        sa.Column("category_name", sa.String(80), nullable=False, server_default=""),
        sa.Column("city", sa.String(100), nullable=False, server_default=""),
        sa.Column("postcode", sa.String(20), nullable=False, server_default=""),
        sa.Column("country", sa.String(2), nullable=False, server_default=""),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("service_names", sa.Text(), nullable=False, server_default=""),
        sa.Column("search_text", sa.Text(), nullable=False, server_default=""),
        sa.Column("search_document", postgresql.TSVECTOR(), nullable=False, server_default=""),
        sa.Column("price_from_amount", sa.Integer()),
        sa.Column("price_currency", sa.String(3)),
        sa.Column("rating_average", sa.Float()),
        sa.Column("rating_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rating_dimensions", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("next_available", sa.DateTime(timezone=True)),
        sa.Column("next_service_id", sa.Uuid()),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("opening_minutes", postgresql.INT4MULTIRANGE(), nullable=False, server_default="{}"),
        sa.Column("opening_hours", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("plan_tier", sa.String(12), nullable=False, server_default="basic"),
        sa.Column("suspended", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("unlisted", sa.Boolean(), nullable=False, server_default="false"),
        sa.Column("source_version", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("(latitude is null) = (longitude is null)", name="marketplace_listing_point_whole"),
        sa.CheckConstraint("rating_count >= 0", name="marketplace_listing_rating_count"),
        sa.CheckConstraint("plan_tier in ('basic', 'featured', 'top')", name="marketplace_listing_plan_tier"),
    )
    op.create_index("ix_marketplace_listing_slug", "marketplace_listing", ["slug"], unique=True)
    op.create_index("ix_marketplace_listing_category", "marketplace_listing", ["category_slug"])
    op.execute("create index ix_marketplace_listing_document on marketplace_listing using gin (search_document)")
    # The words of every listing's document (stemmed lexemes): a misspelt query word is matched to
    # its nearest words here by trigram similarity, then searched through the GIN above.
    op.create_table("marketplace_word", sa.Column("word", sa.String(100), primary_key=True))
    op.execute("create index ix_marketplace_word_trgm on marketplace_word using gin (word gin_trgm_ops)")
    # Misspellings keep their first letter far more often than not: similarity is computed only
    # over the words sharing it (bench/search.py measured the whole-vocabulary scan too slow).
    op.execute("create index ix_marketplace_word_initial on marketplace_word (left(word, 1))")
    op.execute("alter table marketplace_listing add column earth cube")  # (x, y, z) km, null without a point
    op.execute("alter table marketplace_listing add constraint marketplace_listing_earth_point "
               "check ((earth is null) = (latitude is null))")
    op.execute("create index ix_marketplace_listing_earth on marketplace_listing using gist (earth)")
    apply_grants()


def downgrade():
    op.drop_table("marketplace_word")
    op.drop_table("marketplace_listing")
