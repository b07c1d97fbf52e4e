"""Writing audit entries: :func:`record_audit`, in the transaction of the change it records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from app.audit.models import AuditEntry
from app.extensions import db
from app.tenants.context import current_tenant_id, platform_reason, platform_scope
from app.timeutil import utcnow

#: Longest stored user agent and reason (longer ones are cut).
MAX_USER_AGENT = 300
MAX_REASON = 500


@dataclass(frozen=True)
class AuditActor:
    """Who acts, from where: the account id (``None`` for the system), the request's client IP
    address and user agent (``None`` outside a request). Built by the blueprint, passed through
    the domain function to :func:`record_audit`."""

    user_id: uuid.UUID | None
    ip: str | None = None
    user_agent: str | None = None


#: The actor of jobs and CLI commands.
SYSTEM_ACTOR = AuditActor(None)


def request_actor() -> AuditActor:
    """The actor of the running request: the signed-in account (``None`` when signed out), the
    client IP address and user agent; :data:`SYSTEM_ACTOR` outside a request (jobs, CLI). For
    domain functions that record an action without an actor passed in."""
    if not has_request_context():
        return SYSTEM_ACTOR
    user_id = current_user.id if current_user.is_authenticated else None
    return AuditActor(user_id, request.remote_addr, request.user_agent.string or None)


def record_audit(actor: AuditActor, action: str, object_type: str, object_id: uuid.UUID | str | None, *,
                 reason: str = "", before: Mapping[str, Any] | None = None,
                 after: Mapping[str, Any] | None = None, tenant_id: uuid.UUID | None = None) -> AuditEntry:
    """Add one audit entry for ``action`` (a dotted verb such as ``"customer.erased"``) done by
    ``actor`` to ``object_type``/``object_id``, in the business in scope (none in scope: a
    platform entry; inside ``platform_scope`` pass ``tenant_id`` to file it under the business it
    concerns, so its owner sees it too). ``before``/``after`` are JSON-serialisable snapshots of
    what changed. The database adds the actor's email, the chain position and the hashes
    (:mod:`app.audit.chain`).

    Flushes, never commits: the entry is written or dropped with the change it records.
    Raises what the flush raises (e.g. :class:`sqlalchemy.exc.DBAPIError` when row-level
    security refuses the business).
    """
    entry = AuditEntry(
        tenant_id=tenant_id or current_tenant_id(), actor_user_id=actor.user_id, action=action, object_type=object_type,
        object_id=str(object_id) if object_id is not None else None, reason=(reason or "")[:MAX_REASON],
        before=dict(before) if before is not None else None, after=dict(after) if after is not None else None,
        ip=(actor.ip or None) and actor.ip[:64],
        user_agent=(actor.user_agent or None) and actor.user_agent[:MAX_USER_AGENT], at=utcnow())
    db.session.add(entry)
    if entry.tenant_id is None and platform_reason() is None:  # a platform row: only the platform scope may write it
        with platform_scope(f"audit: platform entry {action}"):
            db.session.flush()
    else:
        db.session.flush()
    return entry
