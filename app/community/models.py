"""Community tables: posts and comments, content reports and customer blocks (tenant-owned),
and a person's favourites and recently viewed businesses (platform-level, keyed by user id:
the tenant database role sees only the logged-in person's rows; migration ``k11i1_community``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow

#: Post status: visible on the profile (``published``) or kept for later (``draft``).
DRAFT, PUBLISHED = "draft", "published"
#: Report reasons, in the order the form offers them.
REASONS = ("spam", "abuse", "fake", "inappropriate", "other")
#: Report statuses on the business's side.
OPEN, ACTIONED, DISMISSED = "open", "actioned", "dismissed"
#: ``ContentReport.platform_status`` values (the platform console's moderation queue, issue 12).
PLATFORM_STATUSES = ("new", "reviewing", "upheld", "rejected")


class Post(TenantScoped, db.Model):
    """A business's post on its profile: plain ``body`` (1–2,000 characters), up to six photo
    storage keys, ``status`` draft or published (``published_at`` tz-aware UTC), and
    ``hidden_at`` once the business hid it after a report (never served then)."""

    __tablename__ = "post"
    __table_args__ = (
        sa.CheckConstraint("char_length(body) between 1 and 2000", name="post_body"),
        sa.CheckConstraint("cardinality(photo_keys) <= 6", name="post_photos"),
        sa.CheckConstraint("status in ('draft', 'published')", name="post_status"),
        sa.CheckConstraint("status <> 'published' or published_at is not null", name="post_published_at"),
        sa.Index("post_published", "tenant_id", "published_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    photo_keys: Mapped[list[str]] = mapped_column(postgresql.ARRAY(sa.String(200)), nullable=False, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=PUBLISHED)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class PostComment(TenantScoped, db.Model):
    """A signed-in customer's comment on a post: plain ``body`` (1–1,000 characters), the
    author's account and name at the time; ``hidden_at`` once hidden after a report."""

    __tablename__ = "post_comment"
    __table_args__ = (
        tenant_fk(["post_id"], "post"),
        sa.CheckConstraint("char_length(body) between 1 and 1000", name="post_comment_body"),
        sa.Index("post_comment_post", "tenant_id", "post_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    post_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    hidden_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class ContentReport(TenantScoped, db.Model):
    """Someone reported a piece of content of this business (``target_type`` from
    :mod:`app.community.moderation`'s registry, ``target_id``) for ``reason`` (one of
    :data:`REASONS`) with an optional ``note``. ``status`` is the business's handling (open,
    actioned, dismissed); ``platform_status`` the platform moderation queue's."""

    __tablename__ = "content_report"
    __table_args__ = (
        sa.CheckConstraint("reason in ('spam', 'abuse', 'fake', 'inappropriate', 'other')",
                           name="content_report_reason"),
        sa.CheckConstraint("status in ('open', 'actioned', 'dismissed')", name="content_report_status"),
        sa.CheckConstraint("platform_status in ('new', 'reviewing', 'upheld', 'rejected')",
                           name="content_report_platform_status"),
        sa.CheckConstraint("char_length(note) <= 1000", name="content_report_note"),
        sa.Index("content_report_open", "tenant_id", "status", "created_at"),
        sa.Index("content_report_target", "tenant_id", "target_type", "target_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    target_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    target_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    reporter_user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid, sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    reporter_email: Mapped[str | None] = mapped_column(sa.String(254))
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=OPEN)
    platform_status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="new")
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id",
                                                                                 ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class CustomerBlock(TenantScoped, db.Model):
    """The business blocked a person: by account (``user_id``) and/or normalised ``email``.
    A blocked person cannot message, comment on, or book with the business."""

    __tablename__ = "customer_block"
    __table_args__ = (
        sa.CheckConstraint("user_id is not null or email is not null", name="customer_block_who"),
        sa.Index("customer_block_user", "tenant_id", "user_id", unique=True,
                 postgresql_where=sa.text("user_id is not null")),
        sa.Index("customer_block_email", "tenant_id", "email", unique=True,
                 postgresql_where=sa.text("email is not null")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id",
                                                                                ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class CustomerFavourite(db.Model):
    """A person's favourite business (platform-level: ``business_id`` is the tenant's id)."""

    __tablename__ = "customer_favourite"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                               primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                                                   primary_key=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class RecentlyViewed(db.Model):
    """A business a person looked at, and when last (one row per person and business)."""

    __tablename__ = "recently_viewed"
    __table_args__ = (sa.Index("recently_viewed_latest", "user_id", "viewed_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                               primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                                                   primary_key=True)
    viewed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class ListedPost(db.Model):
    """The apex feed's read model of one post (platform-level, migration ``m15g1_listed_post``):
    a copy of a business's post kept by outbox events (:mod:`app.community.feed_index`), so the
    feed never reads the tenant-owned ``post`` table across businesses.

    ``visible`` is false once the post was unpublished, hidden or deleted (a tombstone);
    ``source_at`` (tz-aware UTC, the database clock when the post was read) orders updates: a
    write carrying an older ``source_at`` than the stored one is ignored, so jobs handled out of
    order never bring back an older state. ``published_at`` tz-aware UTC.
    """

    __tablename__ = "listed_post"
    __table_args__ = (
        sa.Index("listed_post_feed", "published_at", postgresql_where=sa.text("visible")),
        sa.Index("listed_post_business", "business_id", "published_at"),
    )

    post_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                                                   nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    photo_keys: Mapped[list[str]] = mapped_column(postgresql.ARRAY(sa.String(200)), nullable=False, default=list)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    visible: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    source_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
