"""The ``audit_entry`` table: one row per audited action, written once, never changed."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class AuditEntry(db.Model):
    """One audited action.

    ``tenant_id``: the business it happened in (``None`` for a platform action); ``actor_user_id``
    the account that did it (``None`` for the system; not a foreign key, so the entry outlives the
    account); ``action`` a dotted verb (``customer.merged``); ``object_type``/``object_id`` what it
    was done to; ``reason`` as typed by the actor; ``before``/``after`` JSON snapshots of what
    changed (never personal data that an erasure removed); ``ip``/``user_agent`` of the request;
    ``at`` tz-aware UTC; ``actor_email``, ``seq``, ``prev_hash`` and ``row_hash`` (64 hex
    characters) are set by the database (:mod:`app.audit.chain`). Not :class:`~app.tenants.guard.TenantScoped` because ``tenant_id`` may
    be null: readers filter by tenant explicitly and row-level security does the rest.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("audit_entry_tenant_at", "tenant_id", "at"),
        sa.Index("audit_entry_object", "tenant_id", "object_type", "object_id"),
        sa.Index("audit_entry_seq", "seq", unique=True),
        sa.Index("audit_entry_actor", "actor_user_id", "at"),
        sa.Index("audit_entry_at", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"))
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    object_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    before: Mapped[dict | None] = mapped_column(JSONB)
    after: Mapped[dict | None] = mapped_column(JSONB)
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    user_agent: Mapped[str | None] = mapped_column(sa.String(300))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    # Filled by the database's insert trigger (migration l12p1_audit_chain_totp): the actor's
    # address at the time, the row's place in the chain, the previous row's hash and its own.
    actor_email: Mapped[str | None] = mapped_column(sa.String(254), server_default=sa.FetchedValue())
    seq: Mapped[int] = mapped_column(sa.BigInteger, server_default=sa.FetchedValue())
    prev_hash: Mapped[str] = mapped_column(sa.String(64), server_default=sa.FetchedValue())
    row_hash: Mapped[str] = mapped_column(sa.String(64), server_default=sa.FetchedValue())
