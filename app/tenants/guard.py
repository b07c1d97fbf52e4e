"""The ORM query guard and the row-level-security session hook.

Every ORM statement touching a :class:`TenantScoped` model gets
``with_loader_criteria(TenantScoped, tenant_id == current)`` (the SQLAlchemy recipe
``examples/extending_query/filter_public.py``); with no tenant in scope it raises
:class:`TenantScopeError`, unless inside :func:`platform_scope`. New rows take their
``tenant_id`` from the context, and a mismatch raises.

At the start of each transaction ``set_config('app.tenant_id', …, true)``,
``set_config('app.platform', …, true)`` and ``set_config('app.user_id', …, true)`` (the
logged-in person) are issued so PostgreSQL's policies see the same scope (transaction-local,
safe behind a transaction-pooling PgBouncer).
"""

from __future__ import annotations

import hashlib
import threading
import uuid

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.pool import NullPool

from app.tenants.context import acting_user_id, current_tenant_id, platform_reason
from app.tenants.errors import TenantScopeError


class TenantScoped:
    """Mixin for tenant-owned models: ``tenant_id`` NOT NULL, first column of the primary key."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805
        return mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                             primary_key=True, nullable=False, index=True, sort_order=-10)


def _rls_values() -> dict[str, str]:
    tid, uid = current_tenant_id(), acting_user_id()
    return {"t": str(tid) if tid else "", "p": "on" if platform_reason() else "off", "u": str(uid) if uid else "",
            "q": tenant_proof(tid) if tid else ""}


_RLS_SQL = sa.text("select set_config('app.tenant_id', :t, true), set_config('app.platform', :p, true), "
                   "set_config('app.user_id', :u, true), set_config('app.tenant_proof', :q, true)")

#: platform engine URL -> the ``rls_key`` secret (it never changes once migrated).
_PROOF_KEYS: dict[str, bytes] = {}
_PROOF_LOCK = threading.Lock()


def tenant_proof(tenant_id: uuid.UUID) -> str:
    """The proof that goes with ``app.tenant_id`` (hex ``sha256(key || sha256(key || id))``).

    Every tenant policy requires it (migration ``h1_tenant_proof``, ``plaza_tenant_proven()``),
    so a statement injected on a tenant host cannot point ``app.tenant_id`` at another
    business: the key is in ``rls_key``, which only the platform role can read. It is read
    once per process through the platform role's pool. Returns ``""`` before the migration.
    """
    key = _proof_key()
    if key is None:
        return ""
    inner = hashlib.sha256(key + str(tenant_id).encode()).digest()
    return hashlib.sha256(key + inner).hexdigest()


def _proof_key() -> bytes | None:
    from app.extensions import db
    from app.tenants.roles import PLATFORM_BIND

    engine = db.engines.get(PLATFORM_BIND)
    if engine is None:
        return None
    url = str(engine.url)
    if url in _PROOF_KEYS:
        return _PROOF_KEYS[url]
    with _PROOF_LOCK:
        if url not in _PROOF_KEYS:
            # A connection of its own, outside the pool: the first requests after start-up each
            # hold a pooled platform connection (host lookup) while they need the key, and
            # waiting on the same pool for it would exhaust it under a burst.
            one_off = sa.create_engine(engine.url, poolclass=NullPool)
            try:
                with one_off.connect() as conn:
                    exists = conn.exec_driver_sql("select to_regclass('public.rls_key') is not null").scalar()
                    secret = conn.exec_driver_sql("select secret from rls_key where id = 1").scalar() if exists else None
                    conn.rollback()
            finally:
                one_off.dispose()
            if secret is None:
                return None
            _PROOF_KEYS[url] = bytes(secret)
    return _PROOF_KEYS[url]


def apply_rls_settings() -> None:
    """Re-issue the RLS settings on the Flask-SQLAlchemy session's open transaction, if any."""
    try:
        from app.extensions import db

        session = db.session()
    except RuntimeError:  # no app context
        return
    if session.in_transaction():
        for conn in _session_connections(session):
            conn.execute(_RLS_SQL, _rls_values())


def _session_connections(session: Session) -> list[sa.Connection]:
    trans = session.get_transaction()
    if trans is None:
        return []
    return [conn for conn, *_ in trans._connections.values()]  # noqa: SLF001


def install_guard() -> None:
    """Register the ORM listeners once per process (idempotent)."""
    if getattr(install_guard, "_done", False):
        return
    install_guard._done = True  # type: ignore[attr-defined]

    @event.listens_for(Session, "after_begin")
    def _set_rls(session: Session, transaction, connection: sa.Connection) -> None:
        connection.execute(_RLS_SQL, _rls_values())

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
