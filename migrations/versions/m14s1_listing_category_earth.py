"""marketplace_listing: one GiST index over (category, point) for category + radius search

Revision ID: m14s1_listing_category_earth
Revises: m14l1_content_languages
Create Date: 2026-12-05 18:10:00

Issue 14 (S). Nearly every search names a category and a radius: with ``btree_gist`` one index
scan finds the businesses of that category inside the radius's box, instead of intersecting
the whole box (thousands of businesses in a city at 25 km) with the whole category. A platform
read model without row-level security, so no policy changes.
"""
from alembic import op

revision = "m14s1_listing_category_earth"
down_revision = "m14l1_content_languages"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("create index ix_marketplace_listing_category_earth on marketplace_listing "
               "using gist (category_slug, earth)")


def downgrade():
    op.execute("drop index ix_marketplace_listing_category_earth")
