"""Reading the audit log of the business in scope."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db
from app.tenants.context import require_tenant_id


def tenant_entries(page: int = 1, per_page: int = 50, object_type: str | None = None,
                   object_id: uuid.UUID | str | None = None) -> tuple[list[AuditEntry], bool]:
    """The business's entries, newest first, ``per_page`` per page (``page`` from 1), optionally
    only those about one object; and whether a further page exists.

    Raises:
        TenantScopeError: no business in scope.
    """
    query = sa.select(AuditEntry).where(AuditEntry.tenant_id == require_tenant_id())
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == str(object_id))
    page = max(1, page)
    rows = list(db.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id)
                                   .offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page
