"""chat: conversations, participants (with receipt watermarks) and messages

Revision ID: c1_chat
Revises: b2_payments
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import APP_ROLE, enable_rls

revision = "c1_chat"
down_revision = "b2_payments"
branch_labels = None
depends_on = None

TABLES = ["chat_conversation", "chat_participant", "chat_message"]


def _tenant_col():
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def upgrade():
    op.create_table(
        "chat_conversation",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("subject_type", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.UniqueConstraint("tenant_id", "subject_type", "subject_id", name="chat_conversation_subject"),
    )
    op.create_table(
        "chat_participant",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Uuid(), index=True),
        sa.Column("customer_id", sa.Uuid()),
        sa.Column("last_delivered_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "conversation_id"], ["chat_conversation.tenant_id",
                                                                   "chat_conversation.id"], ondelete="CASCADE"),
        sa.CheckConstraint("role in ('customer', 'staff')", name="chat_participant_role"),
        sa.CheckConstraint("user_id is not null or customer_id is not null", name="chat_participant_who"),
    )
    op.create_index("chat_participant_user", "chat_participant", ["tenant_id", "conversation_id", "user_id"],
                    unique=True, postgresql_where=sa.text("role = 'staff'"))
    op.create_index("chat_participant_customer", "chat_participant",
                    ["tenant_id", "conversation_id", "customer_id"], unique=True,
                    postgresql_where=sa.text("role = 'customer'"))
    op.execute("create sequence chat_message_seq")
    op.create_table(
        "chat_message",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default=sa.text("nextval('chat_message_seq')")),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("author_participant_id", sa.Uuid(), nullable=False),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("author_name", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "conversation_id"], ["chat_conversation.tenant_id",
                                                                   "chat_conversation.id"], ondelete="CASCADE"),
        sa.CheckConstraint("char_length(body) between 1 and 4000", name="chat_message_body"),
        sa.UniqueConstraint("tenant_id", "seq", name="chat_message_seq_unique"),
    )
    op.create_index("chat_message_conv_seq", "chat_message", ["tenant_id", "conversation_id", "seq"])
    enable_rls(TABLES)
    op.execute(f"do $$ begin if exists (select 1 from pg_roles where rolname = '{APP_ROLE}') then "
               f"grant usage, select on sequence chat_message_seq to {APP_ROLE}; end if; end $$")


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
    op.execute("drop sequence if exists chat_message_seq")
