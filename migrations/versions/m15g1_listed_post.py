"""listed_post: the apex feed's read model of businesses' posts

Revision ID: m15g1_listed_post
Revises: m15e1_citus_keys
Create Date: 2026-12-05 21:00:00

Issue 11: no apex page reads tenant tables across businesses at query time. The feed of posts
from favourite and nearby businesses reads this platform table, kept by outbox events
(``app.community.feed_index``) like ``marketplace_listing``. Filled here from the posts that
are published and not hidden; the tenant role may read it (public content) and never write it.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants

revision = "m15g1_listed_post"
down_revision = "m15e1_citus_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "listed_post",
        sa.Column("post_id", sa.Uuid, primary_key=True),
        sa.Column("business_id", sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("photo_keys", postgresql.ARRAY(sa.String(200)), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("visible", sa.Boolean, nullable=False),
        sa.Column("source_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("listed_post_feed", "listed_post", ["published_at"], postgresql_where=sa.text("visible"))
    op.create_index("listed_post_business", "listed_post", ["business_id", "published_at"])
    op.execute("insert into listed_post (post_id, business_id, body, photo_keys, published_at, visible, source_at) "
               "select id, tenant_id, body, photo_keys, published_at, true, clock_timestamp() from post "
               "where status = 'published' and hidden_at is null")
    apply_grants()


def downgrade():
    op.drop_table("listed_post")
