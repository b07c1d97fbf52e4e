"""Writing outbox events: :func:`emit`."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.extensions import db
from app.outbox.models import OutboxEvent
from app.tenants.context import current_tenant_id
from app.timeutil import utcnow


class NoTenantInScope(RuntimeError):
    """:func:`emit` was called with no tenant in scope (every event belongs to a business)."""


def emit(kind: str, payload: dict[str, Any] | None = None, dedup_key: str | None = None) -> uuid.UUID | None:
    """Write outbox event ``kind`` with ``payload`` for the tenant in scope, in the current transaction.

    Args:
        kind: what happened, ``<noun>.<verb>`` (e.g. ``booking.confirmed``), at most 64 characters.
        payload: primitives only (ids as strings, amounts in minor units); stored as JSONB.
        dedup_key: when given (at most 200 characters), the event is written at most once per
            tenant, kind and key: ``INSERT … ON CONFLICT DO NOTHING`` on the unique index
            ``outbox_event_dedup``. A concurrent transaction writing the same key waits for the
            first to commit or roll back, then writes nothing (or writes, after a rollback).

    Returns:
        The new event's id, or ``None`` when an event with ``dedup_key`` already exists.

    Raises:
        NoTenantInScope: no tenant in scope (:func:`app.tenants.context.tenant_scope`).
    """
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise NoTenantInScope(f"outbox event {kind!r} emitted with no tenant in scope")
    values = {"id": uuid.uuid4(), "tenant_id": tenant_id, "kind": kind, "payload": dict(payload or {}),
              "dedup_key": dedup_key, "created_at": utcnow()}
    stmt = insert(OutboxEvent.__table__).values(**values)
    if dedup_key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["tenant_id", "kind", "dedup_key"],
                                           index_where=sa.text("dedup_key is not null"))
    stmt = stmt.returning(OutboxEvent.__table__.c.id)
    db.session.flush()  # keep the order of writes: pending ORM rows first, then the event
    return db.session.execute(stmt).scalar_one_or_none()
