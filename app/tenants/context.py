"""Request- and job-scoped tenant context.

The current tenant lives in a :class:`contextvars.ContextVar`, set by the request hook
from the Host header, by each job from its payload, and by CLI commands. The ORM guard
(:mod:`app.tenants.guard`) reads it to filter every query on tenant-owned models.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from app.tenants.errors import TenantScopeError
from app.tenants.rls import apply_rls_settings, rls_params
from app.tenants.transactions import check_platform_scope

log = logging.getLogger(__name__)

_current_tenant: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "plaza_tenant", default=None
)
_platform_reason: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "plaza_platform_scope", default=None
)
_acting_user: contextvars.ContextVar[uuid.UUID | None] = contextvars.ContextVar(
    "plaza_acting_user", default=None
)


def current_tenant_id() -> uuid.UUID | None:
    """The tenant id in scope, or ``None``."""
    return _current_tenant.get()


def require_tenant_id() -> uuid.UUID:
    """The tenant id in scope.

    Raises:
        TenantScopeError: no tenant is in scope.
    """
    tid = _current_tenant.get()
    if tid is None:
        raise TenantScopeError("no tenant in scope")
    return tid


def acting_user_id() -> uuid.UUID | None:
    """The logged-in person the request acts for (``app.user_id`` in PostgreSQL), or ``None``."""
    return _acting_user.get()


def set_acting_user(user_id: uuid.UUID | None) -> contextvars.Token:
    """Put the logged-in person in scope (their own push subscriptions become visible to the
    tenant database role); returns a token for :func:`reset_acting_user`."""
    token = _acting_user.set(user_id)
    _sync_database()
    return token


def reset_acting_user(token: contextvars.Token) -> None:
    """Restore the person in scope before :func:`set_acting_user`."""
    _acting_user.reset(token)
    _sync_database()


def platform_reason() -> str | None:
    """The reason given to the enclosing :func:`platform_scope`, or ``None`` outside one."""
    return _platform_reason.get()


def rls_scope_params() -> dict[str, str]:
    """The RLS bind parameters of the scope in effect (:func:`app.tenants.rls.rls_params`)."""
    return rls_params(_current_tenant.get(), _acting_user.get(), bool(_platform_reason.get()))


def _sync_database() -> None:
    """Re-apply the RLS settings to the open transaction, if any."""
    apply_rls_settings(rls_scope_params())


def set_tenant(tenant_id: uuid.UUID | None) -> contextvars.Token:
    """Put ``tenant_id`` in scope (``None`` clears it); return a token for :func:`reset_tenant`."""
    token = _current_tenant.set(tenant_id)
    _sync_database()
    return token


def reset_tenant(token: contextvars.Token) -> None:
    """Restore the tenant that was in scope before :func:`set_tenant`."""
    _current_tenant.reset(token)
    _sync_database()


@contextmanager
def tenant_scope(tenant_id: uuid.UUID) -> Iterator[uuid.UUID]:
    """Run the block with ``tenant_id`` in scope (jobs, CLI, tests)."""
    token = set_tenant(tenant_id)
    try:
        yield tenant_id
    finally:
        reset_tenant(token)


@contextmanager
def platform_scope(reason: str) -> Iterator[None]:
    """Explicitly bypass tenant filtering for the block, e.g. the marketplace or admin console.

    The bypass is logged with ``reason``; inside it ORM queries on tenant-owned models
    see every tenant, and the PostgreSQL policies of the platform role (never the tenant
    role's) accept the transaction-local ``app.platform`` flag. A transaction begun inside it
    runs on the platform role (:mod:`app.tenants.roles`).

    Raises:
        ValueError: empty ``reason``.
        PlatformRoleRequired: ``db.session`` has a tenant-role transaction that has written
            (one that has not is ended, :func:`app.tenants.transactions.check_platform_scope`).
    """
    if not reason:
        raise ValueError("platform_scope needs a reason")
    check_platform_scope(reason)
    log.info("platform_scope entered", extra={"reason": reason})
    token = _platform_reason.set(reason)
    _sync_database()
    try:
        yield
    finally:
        _platform_reason.reset(token)
        _sync_database()
