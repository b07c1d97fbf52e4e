"""community: inquiries before booking, posts and comments, content reports, customer blocks,
favourites and recently viewed businesses

Revision ID: k11i1_community
Revises: k11h1_reviews
Create Date: 2026-12-05 11:40:00

Issue 11. Tenant tables (``chat_inquiry``, ``post``, ``post_comment``, ``content_report``,
``customer_block``) get the tenant policies like every tenant table (:func:`migrations.rls.enable_rls`).
``chat_message`` gains ``hidden_at`` (a message hidden after a report is never served).

``customer_favourite`` and ``recently_viewed`` belong to a person across businesses: no
``tenant_id`` (``business_id`` names the business), forced RLS with two policies: the tenant
role sees and writes only the logged-in person's rows (``app.user_id``), the platform role
every row (the code filters by ``user_id``), like the person rows of :data:`migrations.rls.PERSON_TABLES`.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import PERSON_MINE, PLATFORM_GROUP, TENANT_GROUP, apply_grants, enable_rls, require_groups

revision = "k11i1_community"
down_revision = "k11h1_reviews"
branch_labels = None
depends_on = None

TENANT_TABLES = ["chat_inquiry", "post", "post_comment", "content_report", "customer_block"]
PERSON_TABLES = ["customer_favourite", "recently_viewed"]
REASONS = "('spam', 'abuse', 'fake', 'inappropriate', 'other')"


def _tenant_col():
    return sa.Column("tenant_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False,
                     index=True)


def _at(name, nullable=True):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "chat_inquiry",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        sa.Column("pending_body", sa.Text()),
        _at("confirmed_at"),
        _at("created_at", False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.CheckConstraint("user_id is not null or email is not null", name="chat_inquiry_who"),
    )
    op.create_index("chat_inquiry_user", "chat_inquiry", ["tenant_id", "user_id"])
    op.add_column("chat_message", sa.Column("hidden_at", sa.DateTime(timezone=True)))
    op.create_table(
        "post",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("photo_keys", postgresql.ARRAY(sa.String(200)), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="published"),
        sa.Column("author_user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        _at("published_at"),
        _at("hidden_at"),
        _at("created_at", False),
        _at("updated_at", False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.CheckConstraint("char_length(body) between 1 and 2000", name="post_body"),
        sa.CheckConstraint("cardinality(photo_keys) <= 6", name="post_photos"),
        sa.CheckConstraint("status in ('draft', 'published')", name="post_status"),
        sa.CheckConstraint("status <> 'published' or published_at is not null", name="post_published_at"),
    )
    op.create_index("post_published", "post", ["tenant_id", "published_at"])
    op.create_table(
        "post_comment",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("post_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        sa.Column("author_name", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        _at("hidden_at"),
        _at("created_at", False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.ForeignKeyConstraint(["tenant_id", "post_id"], ["post.tenant_id", "post.id"], ondelete="CASCADE"),
        sa.CheckConstraint("char_length(body) between 1 and 1000", name="post_comment_body"),
    )
    op.create_index("post_comment_post", "post_comment", ["tenant_id", "post_id", "created_at"])
    op.create_table(
        "content_report",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("reporter_user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        sa.Column("reporter_email", sa.String(254)),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("platform_status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("resolved_by", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        _at("resolved_at"),
        _at("created_at", False),
        _at("updated_at", False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.CheckConstraint(f"reason in {REASONS}", name="content_report_reason"),
        sa.CheckConstraint("status in ('open', 'actioned', 'dismissed')", name="content_report_status"),
        sa.CheckConstraint("platform_status in ('new', 'reviewing', 'upheld', 'rejected')",
                           name="content_report_platform_status"),
        sa.CheckConstraint("char_length(note) <= 1000", name="content_report_note"),
    )
    op.create_index("content_report_open", "content_report", ["tenant_id", "status", "created_at"])
    op.create_index("content_report_target", "content_report", ["tenant_id", "target_type", "target_id"])
    op.create_table(
        "customer_block",
        _tenant_col(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE")),
        sa.Column("email", sa.String(254)),
        sa.Column("name", sa.String(120), nullable=False, server_default=""),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_by", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="SET NULL")),
        _at("created_at", False),
        sa.PrimaryKeyConstraint("tenant_id", "id"),
        sa.CheckConstraint("user_id is not null or email is not null", name="customer_block_who"),
    )
    op.create_index("customer_block_user", "customer_block", ["tenant_id", "user_id"], unique=True,
                    postgresql_where=sa.text("user_id is not null"))
    op.create_index("customer_block_email", "customer_block", ["tenant_id", "email"], unique=True,
                    postgresql_where=sa.text("email is not null"))
    enable_rls(TENANT_TABLES)

    op.create_table(
        "customer_favourite",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True),
        _at("created_at", False),
    )
    op.create_table(
        "recently_viewed",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("business_id", sa.Uuid(), sa.ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True),
        _at("viewed_at", False),
    )
    op.create_index("recently_viewed_latest", "recently_viewed", ["user_id", "viewed_at"])
    require_groups()
    for table in PERSON_TABLES:
        op.execute(f"alter table {table} enable row level security")
        op.execute(f"alter table {table} force row level security")
        op.execute(f"create policy person_rows on {table} to {TENANT_GROUP} using ({PERSON_MINE}) "
                   f"with check ({PERSON_MINE})")
        op.execute(f"create policy platform_person_rows on {table} to {PLATFORM_GROUP} using (true) with check (true)")
    apply_grants()


def downgrade():
    for table in reversed(PERSON_TABLES):
        op.drop_table(table)
    for table in reversed(TENANT_TABLES):
        op.drop_table(table)
    op.drop_column("chat_message", "hidden_at")
