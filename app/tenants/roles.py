"""Which PostgreSQL role a unit of work runs as, chosen per transaction.

Plaza connects with two roles besides the owner that runs migrations (README, Deploying):

* the **tenant role** (``DATABASE_URL``, group ``plaza_tenant``) serves tenant hosts. Its
  row-level-security policies admit only rows whose ``tenant_id`` equals the transaction's
  ``app.tenant_id``; it cannot read password hashes nor write ``alembic_version``. Whatever an
  injected statement sets, it sees one tenant.
* the **platform role** (``PLATFORM_DATABASE_URL``, group ``plaza_platform``, its own pool)
  serves the apex, signup and jobs that span tenants; its policies also honour the
  transaction-local ``app.platform = 'on'`` that :func:`app.tenants.context.platform_scope` sets.

:class:`app.extensions.RoutingSession` (the class of ``db.session``) asks
:func:`route_transaction` (installed by :func:`install_role_router`) for the engine when a
transaction begins: the platform role when no tenant is in scope or inside ``platform_scope``, the tenant
role otherwise. The transaction then stays on that role: a platform transaction narrowed with
``tenant_scope`` keeps the platform role (policies still filter by ``app.tenant_id``);
``platform_scope`` ends a tenant-role transaction that has written nothing and begins its own
on the platform role, and raises :class:`PlatformRoleRequired` when it has written (never a
platform view inside a half-done tenant transaction). A tenant-role request that needs one
platform-wide fact reads it through :func:`platform_read` (its own read-only transaction).
The request hook and Socket.IO events call :func:`hand_over_to_tenant_role` once the
business is known, so the host lookup's platform transaction never carries a tenant's work.
Public reads of platform tables without row-level security (the marketplace's search) go
through :func:`read_platform_tables`: autocommit, no RLS setting, one round trip a statement.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.orm import Session

from app.extensions import RoutingSession, db
from app.tenants.context import current_tenant_id, platform_reason, reset_acting_user, set_acting_user
from app.tenants.errors import PlatformRoleRequired, TenantScopeError
from app.tenants.transactions import (
    PLATFORM,
    PLATFORM_BIND,
    ROLE_KEY,
    TENANT,
    WROTE_KEY,
    check_platform_scope,
    current_session,
    transaction_role,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

__all__ = ["PLATFORM", "PLATFORM_BIND", "ROLE_KEY", "TENANT", "WROTE_KEY", "acting_as", "act_as_loaded_user",
           "check_platform_scope", "current_user_of_transaction", "end_acting_user", "hand_over_to_tenant_role",
           "install_role_router", "on_tenant_role", "platform_read", "read_platform_tables", "route_transaction",
           "table_read_engine", "transaction_role", "wanted_role"]


def wanted_role() -> str:
    """The role a transaction beginning now would use: :data:`PLATFORM` inside
    ``platform_scope`` or with no tenant in scope, else :data:`TENANT`."""
    return PLATFORM if platform_reason() or current_tenant_id() is None else TENANT


def on_tenant_role() -> bool:
    """True when ``db.session``'s open transaction (or, with none open, the next one) runs on
    the tenant role: a lookup there can only find the business in scope."""
    session = current_session()
    role = transaction_role(session) if session is not None else None
    return (role or wanted_role()) == TENANT


def route_transaction(session: Session) -> str | None:
    """The bind key for ``session``'s next statement: the open transaction's role, or
    :func:`wanted_role` when none is open (``None`` is the tenant role's default engine,
    :data:`PLATFORM_BIND` the platform role's).

    Raises:
        PlatformRoleRequired: inside ``platform_scope`` while the open transaction is on the
            tenant role.
    """
    role = transaction_role(session)
    if role is None:
        role = wanted_role()
    elif role == TENANT and platform_reason():
        raise PlatformRoleRequired(
            f"platform_scope({platform_reason()!r}) inside a transaction of the tenant role")
    return PLATFORM_BIND if role == PLATFORM else None


def install_role_router() -> None:
    """Make :func:`route_transaction` choose the engine of every ``db.session`` transaction
    (called by :func:`app.tenants.guard.install_guard`; idempotent)."""
    RoutingSession.bind_router = route_transaction


def hand_over_to_tenant_role() -> None:
    """End the read-only platform transaction that looked a tenant's host up, so the rest of a
    tenant-host request runs on the tenant role (request hook, after ``set_tenant``).

    Loaded objects are expired and reload on the tenant role. Does nothing when no tenant is
    in scope or the open transaction is already the tenant role's.

    Raises:
        TenantScopeError: the platform transaction has unflushed changes.
    """
    session = current_session()
    if session is None or wanted_role() != TENANT or transaction_role(session) != PLATFORM:
        return
    if session.new or session.dirty or session.deleted:
        raise TenantScopeError("changes made before the tenant was known")
    session.rollback()


@contextmanager
def platform_read(reason: str) -> Iterator[sa.Connection]:
    """A connection of the platform role in its own READ ONLY transaction with ``app.platform``
    on, for a platform-wide fact a tenant-role unit of work needs (a password hash, a person's
    roles in every business). Logged with ``reason``; sees only committed data.

    Raises:
        ValueError: empty ``reason``.
    """
    if not reason:
        raise ValueError("platform_read needs a reason")
    log.info("platform_read", extra={"reason": reason})
    with db.engines[PLATFORM_BIND].connect() as conn, conn.begin():
        conn.exec_driver_sql("set transaction read only")
        conn.execute(sa.text("select set_config('app.platform', 'on', true), set_config('app.tenant_id', '', true)"))
        yield conn


#: ``app.extensions`` key of the engine behind :func:`read_platform_tables`.
TABLE_READ_ENGINE = "plaza_platform_table_read"
#: Pool of that engine (per process): enough for every web thread at once; last in, first out,
#: so the same few connections (and their prepared statements) serve one after another.
TABLE_READ_POOL = {"pool_size": 5, "max_overflow": 10, "pool_use_lifo": True}
_TABLE_READ_LOCK = threading.Lock()


def table_read_engine() -> sa.Engine:
    """The engine of :func:`read_platform_tables` in the current app: the platform role's URL
    in autocommit, its own pool without a pre-ping (a dropped connection is retried instead).
    Made on first use, once per app and process."""
    engine = current_app.extensions.get(TABLE_READ_ENGINE)
    if engine is None:
        with _TABLE_READ_LOCK:
            engine = current_app.extensions.get(TABLE_READ_ENGINE)
            if engine is None:
                pooler = current_app.extensions["plaza_settings"].pooler_options()  # no prepared statements
                engine = sa.create_engine(db.engines[PLATFORM_BIND].url, isolation_level="AUTOCOMMIT",
                                          pool_pre_ping=False, **TABLE_READ_POOL, **pooler)
                current_app.extensions[TABLE_READ_ENGINE] = engine
    return engine


def read_platform_tables(work: Callable[[sa.Connection], T]) -> T:
    """``work(conn)`` on a connection of the platform role in autocommit, for public reads of
    platform tables that have no row-level security (``marketplace_listing``,
    ``marketplace_word``, ``marketplace_category``): each statement is its own transaction, so
    a request that only reads them costs one round trip per statement (no pre-ping, ``BEGIN``,
    RLS settings or ``COMMIT``). Returns what ``work`` returns.

    No RLS setting is issued, so every table with a policy reads as empty here (the policies
    need ``app.platform`` or a proven ``app.tenant_id``). This is the platform role: a statement
    that set ``app.platform`` itself would see what ``platform_scope`` sees, so only fixed
    read-model queries run here, never SQL built from input. Statements see committed
    data only (not the caller's unit of work), so ``work`` must only read. A connection the
    server dropped (a restart) is discarded and ``work`` runs once more on a fresh one.

    Raises:
        sqlalchemy.exc.DBAPIError: what ``work`` raised, or the second attempt's disconnect.
    """
    engine = table_read_engine()
    try:
        with engine.connect() as conn:
            return work(conn)
    except sa.exc.DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        log.warning("platform table read: the connection was dropped; trying once more")
    with engine.connect() as conn:
        return work(conn)


@contextmanager
def acting_as(user_id: uuid.UUID) -> Iterator[None]:
    """Write (and read) one person's own rows as that person: ``app.user_id`` is ``user_id``
    inside the block, so the tenant role admits their account-wide notifications, deliveries
    and marketing consents (those without a business); flushes before the previous person
    (the logged-in one, or none) is restored. For a notice to the person a request just
    proved (sign-in, reset link) or any one person a notification is for.
    """
    token = set_acting_user(user_id)
    try:
        yield
        session = current_session()
        if session is not None and session.in_transaction():
            session.flush()
    finally:
        reset_acting_user(token)


def current_user_of_transaction() -> str:
    """``current_user`` of ``db.session``'s connection (for operators and tests)."""
    return db.session.scalar(sa.text("select current_user"))


def act_as_loaded_user(loader: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap a Flask-Login user loader: the loaded person becomes the acting user
    (``app.user_id``) until the app context ends (a request or a Socket.IO event)."""

    def load(ident: str) -> Any:
        user = loader(ident)
        if user is not None and "plaza_acting_user" not in g:
            g.plaza_acting_user = set_acting_user(user.id)
        return user

    return load


def end_acting_user() -> None:
    """Forget the acting user of this app context (``teardown_appcontext``)."""
    token = g.pop("plaza_acting_user", None)
    if token is not None:
        try:
            reset_acting_user(token)
        except ValueError:  # set in another context
            pass
