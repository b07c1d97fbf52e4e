"""Staff-only notes and tags on a business's customer records (the CRM).

Both hang off :class:`app.booking.models.Customer` with a composite foreign key
``(tenant_id, customer_id)`` and ``ON DELETE CASCADE``; customers never see them.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow

#: Longest note body and tag (characters).
MAX_NOTE = 2000
MAX_TAG = 40


class CustomerNote(TenantScoped, db.Model):
    """A note staff appended to a customer record: ``body`` (1–2000 characters), its author
    (account id and the name shown at the time) and ``created_at`` (UTC). Notes are appended,
    never edited; erasing a customer removes them."""

    __tablename__ = "customer_note"
    __table_args__ = (
        tenant_fk(["customer_id"], "customer"),
        sa.CheckConstraint(f"char_length(body) between 1 and {MAX_NOTE}", name="customer_note_body"),
        sa.Index("customer_note_customer", "tenant_id", "customer_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    author_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    author_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class CustomerTag(TenantScoped, db.Model):
    """A free-text tag (1–40 characters, e.g. "VIP") on a customer record; one per spelling,
    case-insensitively, per customer."""

    __tablename__ = "customer_tag"
    __table_args__ = (
        tenant_fk(["customer_id"], "customer"),
        sa.CheckConstraint(f"char_length(tag) between 1 and {MAX_TAG}", name="customer_tag_text"),
        sa.Index("customer_tag_once", "tenant_id", "customer_id", sa.text("lower(tag)"), unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    tag: Mapped[str] = mapped_column(sa.String(MAX_TAG), nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
