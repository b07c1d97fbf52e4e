"""The ORM query guard and the row-level-security session hook.

Every ORM statement touching a :class:`TenantScoped` model gets
``with_loader_criteria(TenantScoped, tenant_id == current)`` (the SQLAlchemy recipe
``examples/extending_query/filter_public.py``); with no tenant in scope it raises
:class:`TenantScopeError`, unless inside :func:`platform_scope`. New rows take their
``tenant_id`` from the context, and a mismatch raises.

At the start of each transaction the settings of :mod:`app.tenants.rls` are issued so
PostgreSQL's policies see the same scope. ``tenant_proof`` is
re-exported from there for existing callers.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria

from app.tenants.context import current_tenant_id, platform_reason, rls_scope_params
from app.tenants.errors import TenantScopeError
from app.tenants.rls import RLS_SQL, tenant_proof
from app.tenants.roles import install_role_router


class TenantScoped:
    """Mixin for tenant-owned models: ``tenant_id`` NOT NULL, first column of the primary key."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                             primary_key=True, nullable=False, index=True, sort_order=-10)


def install_guard() -> None:
    """Register the ORM listeners once per process (idempotent)."""
    if getattr(install_guard, "_done", False):
        return
    install_guard._done = True  # type: ignore[attr-defined]
    install_role_router()

    @event.listens_for(Session, "after_begin")
    def _set_rls(session: Session, transaction, connection: sa.Connection) -> None:
        connection.execute(RLS_SQL, rls_scope_params())

    @event.listens_for(Session, "do_orm_execute")
    def _filter_tenant(state: ORMExecuteState) -> None:
        if state.is_column_load or not (state.is_select or state.is_update or state.is_delete):
            return
        if not any(issubclass(m.class_, TenantScoped) for m in state.all_mappers):
            return
        if platform_reason():
            return
        tid = current_tenant_id()
        if tid is None:
            raise TenantScopeError("query on tenant-owned data with no tenant in scope")
        state.statement = state.statement.options(
            with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tid, include_aliases=True)
        )

    @event.listens_for(Session, "before_flush")
    def _stamp_tenant(session: Session, flush_context, instances) -> None:
        tid = current_tenant_id()
        for obj in list(session.new) + list(session.dirty):
            if not isinstance(obj, TenantScoped):
                continue
            if obj.tenant_id is None:
                if tid is None:
                    raise TenantScopeError(f"new {type(obj).__name__} with no tenant in scope")
                obj.tenant_id = tid
            elif tid is not None and obj.tenant_id != tid and not platform_reason():
                raise TenantScopeError(f"{type(obj).__name__} belongs to another tenant")
            elif tid is None and not platform_reason():
                raise TenantScopeError(f"write to {type(obj).__name__} with no tenant in scope")


def tenant_fk(cols: list[str], table: str) -> sa.ForeignKeyConstraint:
    """Composite FK ``(tenant_id, *cols) -> table(tenant_id, id)`` with ``ON DELETE CASCADE``:
    a tenant-owned row can only reference a row of the same tenant (``cols`` are column names
    of the referencing table, ``table`` the referenced table's name)."""
    return sa.ForeignKeyConstraint(["tenant_id", *cols], [f"{table}.tenant_id", f"{table}.id"],
                                   ondelete="CASCADE")


__all__ = ["TenantScoped", "install_guard", "tenant_fk", "tenant_proof"]
