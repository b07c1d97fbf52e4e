"""Which PostgreSQL role a unit of work runs as, chosen per transaction.

Plaza connects with two roles besides the owner that runs migrations (README, Deploying):

* the **tenant role** (``DATABASE_URL``, group ``plaza_tenant``) serves tenant hosts. Its
  row-level-security policies admit only rows whose ``tenant_id`` equals the transaction's
  ``app.tenant_id``; it cannot read password hashes nor write ``alembic_version``. Whatever an
  injected statement sets, it sees one tenant.
* the **platform role** (``PLATFORM_DATABASE_URL``, group ``plaza_platform``, its own pool)
  serves the apex, signup and jobs that span tenants; its policies also honour the
  transaction-local ``app.platform = 'on'`` that :func:`app.tenants.context.platform_scope` sets.

:class:`RoutingSession` (the class of ``db.session``) picks the engine when a transaction
begins: the platform role when no tenant is in scope or inside ``platform_scope``, the tenant
role otherwise. The transaction then stays on that role: a platform transaction narrowed with
``tenant_scope`` keeps the platform role (policies still filter by ``app.tenant_id``);
``platform_scope`` ends a tenant-role transaction that has written nothing and begins its own
on the platform role, and raises :class:`PlatformRoleRequired` when it has written (never a
platform view inside a half-done tenant transaction). A tenant-role request that needs one
platform-wide fact reads it through :func:`platform_read` (its own read-only transaction).
The request hook and Socket.IO events call :func:`hand_over_to_tenant_role` once the
business is known, so the host lookup's platform transaction never carries a tenant's work.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.tenants.context import current_tenant_id, platform_reason, reset_acting_user, set_acting_user
from app.tenants.errors import PlatformRoleRequired, TenantScopeError

log = logging.getLogger(__name__)

TENANT = "tenant"
PLATFORM = "platform"
#: ``SQLALCHEMY_BINDS`` key of the platform role's engine (the default engine is the tenant role's).
PLATFORM_BIND = "platform"
#: ``Session.info`` key holding the role of the open transaction.
ROLE_KEY = "plaza_db_role"
#: ``Session.info`` key set once the open transaction has flushed or run a DML statement.
WROTE_KEY = "plaza_db_wrote"


def wanted_role() -> str:
    """The role a transaction beginning now would use: :data:`PLATFORM` inside
    ``platform_scope`` or with no tenant in scope, else :data:`TENANT`."""
    return PLATFORM if platform_reason() or current_tenant_id() is None else TENANT


def transaction_role(session: Session) -> str | None:
    """The role of ``session``'s open transaction (:data:`TENANT` / :data:`PLATFORM`), or ``None``."""
    return session.info.get(ROLE_KEY) if session.in_transaction() else None


def on_tenant_role() -> bool:
    """True when ``db.session``'s open transaction (or, with none open, the next one) runs on
    the tenant role: a lookup there can only find the business in scope."""
    session = _session()
    role = transaction_role(session) if session is not None else None
    return (role or wanted_role()) == TENANT


class RoutingSession(FlaskSession):
    """``db.session``: each transaction runs on the tenant or the platform role's engine.

    Raises (from any statement):
        PlatformRoleRequired: inside ``platform_scope`` while the open transaction is on the
            tenant role.
    """

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):  # noqa: ANN001, ANN201 - SQLAlchemy's signature
        """The engine of the open transaction's role, or of :func:`wanted_role` when none is open."""
        if bind is not None:
            return bind
        role = transaction_role(self)
        if role is None:
            role = wanted_role()
        elif role == TENANT and platform_reason():
            raise PlatformRoleRequired(
                f"platform_scope({platform_reason()!r}) inside a transaction of the tenant role")
        engines = self._db.engines
        return engines[PLATFORM_BIND] if role == PLATFORM else engines[None]


@event.listens_for(RoutingSession, "after_begin")
def _remember_role(session: Session, transaction: SessionTransaction, connection: sa.Connection) -> None:
    platform = session._db.engines[PLATFORM_BIND]  # noqa: SLF001 - Flask-SQLAlchemy's own session attribute
    session.info[ROLE_KEY] = PLATFORM if connection.engine is platform else TENANT


@event.listens_for(RoutingSession, "after_transaction_end")
def _forget_role(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(ROLE_KEY, None)
        session.info.pop(WROTE_KEY, None)


@event.listens_for(RoutingSession, "after_flush")
def _flushed(session: Session, flush_context) -> None:  # noqa: ANN001 - SQLAlchemy's signature
    session.info[WROTE_KEY] = True


@event.listens_for(RoutingSession, "do_orm_execute")
def _dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE_KEY] = True


def check_platform_scope(reason: str) -> None:
    """Make way for ``platform_scope(reason)`` (called by it).

    A tenant-role transaction that has written nothing is rolled back (logged), so the block
    begins its own transaction on the platform role; loaded objects are expired and reload
    on the role of the next transaction.

    Raises:
        PlatformRoleRequired: ``db.session`` has a tenant-role transaction that has written.
    """
    session = _session()
    if session is None or transaction_role(session) != TENANT:
        return
    if session.new or session.dirty or session.deleted or session.info.get(WROTE_KEY):
        raise PlatformRoleRequired(f"platform_scope({reason!r}) needs the platform role, and this transaction "
                                   "has written on the tenant role (commit it first, or use platform_read)")
    log.info("tenant-role transaction ended for platform_scope", extra={"reason": reason})
    session.rollback()


def hand_over_to_tenant_role() -> None:
    """End the read-only platform transaction that looked a tenant's host up, so the rest of a
    tenant-host request runs on the tenant role (request hook, after ``set_tenant``).

    Loaded objects are expired and reload on the tenant role. Does nothing when no tenant is
    in scope or the open transaction is already the tenant role's.

    Raises:
        TenantScopeError: the platform transaction has unflushed changes.
    """
    session = _session()
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
    from app.extensions import db

    if not reason:
        raise ValueError("platform_read needs a reason")
    log.info("platform_read", extra={"reason": reason})
    with db.engines[PLATFORM_BIND].connect() as conn, conn.begin():
        conn.exec_driver_sql("set transaction read only")
        conn.execute(sa.text("select set_config('app.platform', 'on', true), set_config('app.tenant_id', '', true)"))
        yield conn


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
        session = _session()
        if session is not None and session.in_transaction():
            session.flush()
    finally:
        reset_acting_user(token)


def current_user_of_transaction() -> str:
    """``current_user`` of ``db.session``'s connection (for operators and tests)."""
    from app.extensions import db

    return db.session.scalar(sa.text("select current_user"))


def _session() -> Session | None:
    try:
        from app.extensions import db

        return db.session()
    except RuntimeError:  # no app context
        return None


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
