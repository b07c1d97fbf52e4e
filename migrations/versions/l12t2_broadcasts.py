"""broadcasts: ``broadcast`` (a platform message to an audience) and ``broadcast_recipient`` (once per person)

Revision ID: l12t2_broadcasts
Revises: l12t1_platform_setting
Create Date: 2026-12-05 12:50:00

Issue 12. Platform-level tables (no ``tenant_id``): written by the platform role only (the console
and the worker); the tenant role may not even read them (revoked below, and kept so by
``migrations.rls.apply_grants``' platform-only list). ``(broadcast_id, user_id)`` is the dedup key
per broadcast and person.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants

revision = "l12t2_broadcasts"
down_revision = "l12t1_platform_setting"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "broadcast",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("created_by", sa.Uuid()),
        sa.Column("audience", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("subject", sa.String(150), nullable=False, server_default=""),
        sa.Column("body", sa.Text(), nullable=False, server_default=""),
        sa.Column("channels", postgresql.ARRAY(sa.String(16)), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("send_at", TS),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("stopped_at", TS),
        sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("status in ('draft', 'scheduled', 'sending', 'sent', 'stopped')", name="broadcast_status"),
    )
    op.create_index("broadcast_due", "broadcast", ["status", "send_at"])
    op.create_table(
        "broadcast_recipient",
        sa.Column("broadcast_id", sa.Uuid(), sa.ForeignKey("broadcast.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("reason", sa.String(200), nullable=False, server_default=""),
        sa.Column("notification_id", sa.Uuid()),
        sa.Column("handled_at", TS),
    )
    op.create_index("broadcast_recipient_pending", "broadcast_recipient", ["broadcast_id", "status"])
    apply_grants()


def downgrade():
    op.drop_table("broadcast_recipient")
    op.drop_table("broadcast")
