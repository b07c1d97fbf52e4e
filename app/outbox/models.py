"""The ``outbox_event`` table: events written in the domain's transaction, relayed after commit."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.timeutil import utcnow

#: Name of the unique index that makes one event per ``(tenant_id, kind, dedup_key)``
#: (migration ``i9a_outbox_dedup_key``); :func:`app.outbox.events.emit` targets it.
DEDUP_INDEX = "outbox_event_dedup"


class OutboxEvent(TenantScoped, db.Model):
    """Something that happened and must cause side effects once its transaction commits.

    ``kind`` e.g. ``booking.confirmed``; ``payload`` holds primitives only (ids as strings,
    amounts in minor units). ``dedup_key`` (optional, at most 200 characters) is unique per
    tenant and kind: a second event with the same key is never written. ``relayed_at`` is set
    by :func:`app.outbox.relay.relay_outbox` once the event's jobs are enqueued.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (
        sa.Index("outbox_unrelayed", "created_at", postgresql_where=sa.text("relayed_at is null")),
        sa.Index(DEDUP_INDEX, "tenant_id", "kind", "dedup_key", unique=True,
                 postgresql_where=sa.text("dedup_key is not null")),
        # migration e1_outbox_lookups: uncollected fees by booking (the staff board)
        sa.Index("outbox_event_fee_uncollected", "tenant_id", sa.text("(payload ->> 'booking_id')"),
                 postgresql_where=sa.text("kind = 'fee.uncollected'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    dedup_key: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    relayed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
