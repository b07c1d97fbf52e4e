"""customers CRM (staff notes and tags) and the audit log

Revision ID: j10c_customers_audit
Revises: j10b_booking_source
Create Date: 2026-12-05 08:20:00

* ``customer_note`` and ``customer_tag``: tenant tables hanging off ``customer`` (composite
  foreign key, cascade), RLS with the tenant and platform policies like every tenant table.
* ``audit_entry``: append-only. ``tenant_id`` is nullable (platform actions); rows of a business
  are under the same policies (a null ``tenant_id`` matches no business, so only the platform
  role inside ``platform_scope`` sees platform rows). The app roles may INSERT and SELECT, never
  UPDATE, DELETE or TRUNCATE: :func:`migrations.rls.apply_grants` revokes them (so later
  migrations' grants keep it so).
* ``customer (tenant_id, lower(name))`` index for the dashboard's customer search, and
  ``customer.erased_at`` (set when a record is anonymised on request).
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from migrations.rls import enable_rls

revision = "j10c_customers_audit"
down_revision = "j10b_booking_source"
branch_labels = None
depends_on = None


def _tenant_column() -> sa.Column:
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def upgrade():
    op.create_table(
        "customer_note",
        _tenant_column(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("author_user_id", sa.Uuid()),
        sa.Column("author_name", sa.String(120), nullable=False, server_default=""),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "customer_id"], ["customer.tenant_id", "customer.id"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("char_length(body) between 1 and 2000", name="customer_note_body"),
    )
    op.create_index("customer_note_customer", "customer_note", ["tenant_id", "customer_id", "created_at"])
    op.create_table(
        "customer_tag",
        _tenant_column(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "customer_id"], ["customer.tenant_id", "customer.id"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("char_length(tag) between 1 and 40", name="customer_tag_text"),
    )
    op.create_index("customer_tag_once", "customer_tag", ["tenant_id", "customer_id", sa.text("lower(tag)")],
                    unique=True)
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE")),
        sa.Column("actor_user_id", sa.Uuid()),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", sa.String(64)),
        sa.Column("reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("before", JSONB()),
        sa.Column("after", JSONB()),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(300)),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("audit_entry_tenant_at", "audit_entry", ["tenant_id", "at"])
    op.create_index("audit_entry_object", "audit_entry", ["tenant_id", "object_type", "object_id"])
    op.create_index("customer_name_search", "customer", ["tenant_id", sa.text("lower(name)")])
    op.add_column("customer", sa.Column("erased_at", sa.DateTime(timezone=True)))
    enable_rls(["customer_note", "customer_tag", "audit_entry"])


def downgrade():
    op.drop_column("customer", "erased_at")
    op.drop_index("customer_name_search", table_name="customer")
    op.drop_table("audit_entry")
    op.drop_table("customer_tag")
    op.drop_table("customer_note")
