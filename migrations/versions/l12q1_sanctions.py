"""sanction: the platform's suspensions, bans and warnings of businesses and people

Revision ID: l12q1_sanctions
Revises: l12p1_audit_chain_totp
Create Date: 2026-12-05 12:45:00

Issue 12 (directory and moderation). ``sanction`` is platform-level like ``tenant``: a row is
about one business (``business_id``, not ``tenant_id``: it is no tenant table and carries no
tenant policies) or one person (``user_id``). ``kind`` suspend, ban or warn; a suspension or ban
is active while ``lifted_at`` is null and ``ends_at`` (tz-aware UTC, null for none) is in the
future; the active one drives ``tenant.suspended_at`` / ``user_account.suspended_at``.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import apply_grants

revision = "l12q1_sanctions"
down_revision = "l12p1_audit_chain_totp"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sanction",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE")),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("created_by", sa.Uuid()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True)),
        sa.Column("lifted_by", sa.Uuid()),
        sa.Column("lift_reason", sa.String(1000), nullable=False, server_default=""),
        sa.CheckConstraint("kind in ('suspend', 'ban', 'warn')", name="sanction_kind"),
        sa.CheckConstraint("(business_id is null) <> (user_id is null)", name="sanction_subject"),
    )
    op.create_index("sanction_business", "sanction", ["business_id", "created_at"])
    op.create_index("sanction_user", "sanction", ["user_id", "created_at"])
    op.create_index("sanction_due", "sanction", ["ends_at"],
                    postgresql_where=sa.text("lifted_at is null and ends_at is not null"))
    apply_grants()


def downgrade():
    op.drop_table("sanction")
