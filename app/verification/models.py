"""The ``verification_document`` table: a business's documents behind its verified badge.

Each document (a licence, an insurance certificate, a certification) belongs to a business
(``TenantScoped``, RLS like every tenant table), is stored privately (``storage_key``, served
only through signed, expiring URLs) and has an ``expires_on`` date. An admin approves or
rejects it (``status``, ``reason``, ``decided_by``, ``decided_at``); the expiry worker sends
reminders (``reminded_days``: the smallest "days before" reminder already sent) and marks a
lapsed approved document ``expired``. A business is verified while at least one of its
approved documents has not expired (:func:`app.verification.service.is_verified`).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow


class DocumentKind(enum.StrEnum):
    """What a document proves."""

    LICENCE = "licence"
    INSURANCE = "insurance"
    CERTIFICATION = "certification"


class DocumentStatus(enum.StrEnum):
    """Where a document stands: ``pending`` (waiting for an admin), ``approved``, ``rejected``
    (with a reason) or ``expired`` (was approved; its expiry date has passed)."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class VerificationDocument(TenantScoped, db.Model):
    """One uploaded document of a business (see the module docstring)."""

    __tablename__ = "verification_document"
    __table_args__ = (
        sa.CheckConstraint("kind in ('licence', 'insurance', 'certification')", name="verification_document_kind"),
        sa.CheckConstraint("status in ('pending', 'approved', 'rejected', 'expired')",
                           name="verification_document_status"),
        sa.Index("verification_document_status_idx", "status", "expires_on"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    storage_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    expires_on: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default=DocumentStatus.PENDING.value)
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reminded_days: Mapped[int | None] = mapped_column(sa.SmallInteger)
