"""staff invitations: a staff member invited by email to log in as staff or manager

Revision ID: d1_staff_invitation
Revises: c2_notify
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import enable_rls

revision = "d1_staff_invitation"
down_revision = "c2_notify"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "staff_invitation",
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("staff_member_id", sa.Uuid(), nullable=True, index=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("invited_by", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("accepted_at", TS),
        sa.Column("accepted_by", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        sa.Column("revoked_at", TS),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "staff_member_id"], ["staff_member.tenant_id", "staff_member.id"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("role in ('staff', 'manager')", name="staff_invitation_role"),
        sa.CheckConstraint("status in ('pending', 'accepted', 'revoked')", name="staff_invitation_status"),
    )
    op.create_index("staff_invitation_one_pending", "staff_invitation", ["tenant_id", "email"], unique=True,
                    postgresql_where=sa.text("status = 'pending'"))
    enable_rls(["staff_invitation"])


def downgrade():
    op.drop_table("staff_invitation")
