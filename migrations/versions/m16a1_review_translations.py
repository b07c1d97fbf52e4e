"""review.translations: the reviewed service's name in the business's other languages

Revision ID: m16a1_review_translations
Revises: m15g1_listed_post
Create Date: 2026-12-06 00:30:00

Issue 14: a review's "Verified visit · Dameklip · december 2026" line shows the service in the
reader's language where the business wrote one. The name is a snapshot taken with the review
(so a later rename does not change what was reviewed); this column snapshots its translations
alongside, ``{"da": {"service_name": "Dameklip"}}``. Existing reviews take them from their
service when the service still has the reviewed name.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "m16a1_review_translations"
down_revision = "m15g1_listed_post"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("review", sa.Column("translations", postgresql.JSONB, nullable=False, server_default="{}"))
    op.execute(
        "update review r set translations = coalesce(("
        "  select jsonb_object_agg(t.key, jsonb_build_object('service_name', t.value->>'name'))"
        "  from jsonb_each(s.translations) t where coalesce(t.value->>'name', '') <> ''), '{}'::jsonb) "
        "from booking b join service s on s.tenant_id = b.tenant_id and s.id = b.service_id "
        "where b.tenant_id = r.tenant_id and b.id = r.booking_id and s.name = r.service_name")


def downgrade():
    op.drop_column("review", "translations")
