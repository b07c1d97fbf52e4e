"""Which database role the open transaction of ``db.session`` runs on, and whether it wrote.

The bookkeeping below the role choice of :mod:`app.tenants.roles`: the bind key of the
platform role's engine, the ``Session.info`` keys that remember a transaction's role and
whether it has written, and :func:`check_platform_scope`, which :func:`app.tenants.context.
platform_scope` calls before it widens the scope. Nothing here reads the tenant context, so
the context module can use it without an import cycle.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from app.extensions import RoutingSession, db
from app.tenants.errors import PlatformRoleRequired

log = logging.getLogger("app.tenants.roles")

TENANT = "tenant"
PLATFORM = "platform"
#: ``SQLALCHEMY_BINDS`` key of the platform role's engine (the default engine is the tenant role's).
PLATFORM_BIND = "platform"
#: ``Session.info`` key holding the role of the open transaction.
ROLE_KEY = "plaza_db_role"
#: ``Session.info`` key set once the open transaction has flushed or run a DML statement.
WROTE_KEY = "plaza_db_wrote"


def current_session() -> Session | None:
    """``db.session``'s session of this app context, or ``None`` outside an app context."""
    try:
        return db.session()
    except RuntimeError:  # no app context
        return None


def transaction_role(session: Session) -> str | None:
    """The role of ``session``'s open transaction (:data:`TENANT` / :data:`PLATFORM`), or ``None``."""
    return session.info.get(ROLE_KEY) if session.in_transaction() else None


def role_engine(role: str) -> sa.Engine:
    """The engine of ``role`` (:data:`TENANT` / :data:`PLATFORM`) in the current app.

    Raises:
        KeyError: ``role`` is :data:`PLATFORM` and no platform bind is configured.
    """
    return db.engines[PLATFORM_BIND] if role == PLATFORM else db.engines[None]


def transaction_connection(session: Session) -> sa.Connection | None:
    """The connection of ``session``'s open transaction (one role, one engine), or ``None``
    when no transaction is open."""
    role = transaction_role(session)
    if role is None:
        return None
    return session.connection(bind_arguments={"bind": role_engine(role)})


@event.listens_for(RoutingSession, "after_begin")
def _remember_role(session: Session, transaction: SessionTransaction, connection: sa.Connection) -> None:
    platform = db.engines[PLATFORM_BIND]
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
    session = current_session()
    if session is None or transaction_role(session) != TENANT:
        return
    if session.new or session.dirty or session.deleted or session.info.get(WROTE_KEY):
        raise PlatformRoleRequired(f"platform_scope({reason!r}) needs the platform role, and this transaction "
                                   "has written on the tenant role (commit it first, or use platform_read)")
    log.info("tenant-role transaction ended for platform_scope", extra={"reason": reason})
    session.rollback()
