"""chat_inquiry.locale: the language a guest wrote their inquiry in

Revision ID: m16a2_inquiry_locale
Revises: m16a1_review_translations
Create Date: 2026-12-06 00:40:00

Issue 14: emails go out in the recipient's language. A guest has no account to keep a choice,
so the inquiry keeps the language of the page they wrote it on (Babel identifier, ``da``); the
confirmation and reply emails use it. Older inquiries keep the business's default (NULL).
"""
import sqlalchemy as sa
from alembic import op

revision = "m16a2_inquiry_locale"
down_revision = "m16a1_review_translations"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("chat_inquiry", sa.Column("locale", sa.String(12)))


def downgrade():
    op.drop_column("chat_inquiry", "locale")
