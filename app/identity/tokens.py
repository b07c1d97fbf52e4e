"""Listing and revoking a tenant's staff API tokens (creation is
:func:`app.identity.service.create_api_token`)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.audit.service import record_audit, request_actor
from app.extensions import db
from app.identity.models import ApiToken
from app.timeutil import utcnow


def list_api_tokens() -> list[ApiToken]:
    """API tokens of the current tenant: live ones first, then newest first."""
    return list(db.session.scalars(
        sa.select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())))


def revoke_api_token(token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke ``token`` (idempotent: an already revoked token keeps its first revocation time); flushes."""
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        record_audit(request_actor(), "api_token.revoked", "api_token", token.id, after={"name": token.name})
        db.session.flush()
    return token
