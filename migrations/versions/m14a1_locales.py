"""languages: a person's chosen language and a business's default language

Revision ID: m14a1_locales
Revises: m13x1_dispatch
Create Date: 2026-12-05 17:50:00

Issue 14. ``user_account.locale``: the language a person chose (Babel identifier, ``da``,
``en_GB``), ``NULL`` until they choose. ``tenant.default_locale``: the language a business's pages
and messages fall back to when nothing about the reader says; Danish for businesses in Denmark,
English elsewhere. ``apply_grants`` re-issues the tenant role's column grant on ``user_account``.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import apply_grants

revision = "m14a1_locales"
down_revision = "m13x1_dispatch"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("user_account", sa.Column("locale", sa.String(12), nullable=True))
    op.add_column("tenant", sa.Column("default_locale", sa.String(12), nullable=False, server_default="en"))
    op.execute("update tenant set default_locale = 'da' where country = 'DK'")
    apply_grants()


def downgrade():
    op.drop_column("tenant", "default_locale")
    op.drop_column("user_account", "locale")
    apply_grants()
