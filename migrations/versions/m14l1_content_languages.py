"""languages of messages and business content: the language a guest booked in, and services'
and businesses' texts in more than one language

Revision ID: m14l1_content_languages
Revises: m14a1_locales
Create Date: 2026-12-05 18:00:00

Issue 14 (L). ``customer.locale`` and ``booking.locale``: the language (Babel identifier,
``da``, ``en_GB``) the customer used when booking, so emails, reminders and notices about the
booking go out in it; ``NULL`` for bookings made before, at the desk or without a request (the
business's default language applies). ``service.translations`` and ``tenant.translations``:
the business's own texts in other languages than its default, ``{"da": {"name": "...",
"description": "..."}}`` (empty object: only the default language's text).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.rls import apply_grants

revision = "m14l1_content_languages"
down_revision = "m14a1_locales"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customer", sa.Column("locale", sa.String(12), nullable=True))
    op.add_column("booking", sa.Column("locale", sa.String(12), nullable=True))
    op.add_column("service", sa.Column("translations", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")))
    op.add_column("tenant", sa.Column("translations", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")))
    apply_grants()


def downgrade():
    op.drop_column("tenant", "translations")
    op.drop_column("service", "translations")
    op.drop_column("booking", "locale")
    op.drop_column("customer", "locale")
    apply_grants()
