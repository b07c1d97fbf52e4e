"""The row-level-security settings each transaction carries, and the tenant proof.

At the start of each transaction (and whenever the scope changes inside one)
``set_config('app.tenant_id', …, true)``, ``set_config('app.platform', …, true)``,
``set_config('app.user_id', …, true)`` (the logged-in person) and ``set_config('app.tenant_proof',
…, true)`` are issued so PostgreSQL's policies see the scope of :mod:`app.tenants.context`
(transaction-local, safe behind a transaction-pooling PgBouncer). The values are passed in by
the caller, so this module does not read the context (no import cycle).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from app.extensions import db
from app.tenants.transactions import PLATFORM_BIND, current_session, transaction_connection

log = logging.getLogger("plaza.tenants")

RLS_SQL = sa.text("select set_config('app.tenant_id', :t, true), set_config('app.platform', :p, true), "
                  "set_config('app.user_id', :u, true), set_config('app.tenant_proof', :q, true)")

#: platform engine URL -> the ``rls_key`` secret (it never changes once migrated).
_PROOF_KEYS: dict[str, bytes] = {}
_PROOF_LOCK = threading.Lock()


def rls_params(tenant_id: uuid.UUID | None, user_id: uuid.UUID | None, platform: bool) -> dict[str, str]:
    """Bind parameters of :data:`RLS_SQL` for a scope: ``{"t", "p", "u", "q"}`` as strings
    (``""`` for none; ``p`` is ``"on"``/``"off"``; ``q`` the :func:`tenant_proof` of ``t``)."""
    return {"t": str(tenant_id) if tenant_id else "", "p": "on" if platform else "off",
            "u": str(user_id) if user_id else "", "q": tenant_proof(tenant_id) if tenant_id else ""}


def tenant_proof(tenant_id: uuid.UUID) -> str:
    """The proof that goes with ``app.tenant_id`` (hex ``sha256(key || sha256(key || id))``).

    Every tenant policy requires it (migration ``h1_tenant_proof``; ``plaza_proven_tenant_id()``
    since ``m17a1_rls_proof_once``, checked once per statement),
    so a statement injected on a tenant host cannot point ``app.tenant_id`` at another
    business: the key is in ``rls_key``, which only the platform role can read. It is read
    once per process through the platform role's pool. Returns ``""`` before the migration.
    """
    key = proof_key()
    if key is None:
        return ""
    inner = hashlib.sha256(key + str(tenant_id).encode()).digest()
    return hashlib.sha256(key + inner).hexdigest()


def proof_key() -> bytes | None:
    """The ``rls_key`` secret (bytes), read once per process and platform database; ``None``
    without a platform bind or before migration ``h1_tenant_proof``."""
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


def warm_proof_key() -> None:
    """Read the ``rls_key`` secret now, at process start (needs an app context), so no request
    needs a connection for it while holding one: behind a pooler with few server connections
    (PgBouncer), a burst of first requests each holding a platform connection for the host lookup
    would otherwise wait on each other for the one that reads the key. A database that cannot be
    reached or is not migrated yet is not an error here: the key is then read on first use."""
    try:
        proof_key()
    except SQLAlchemyError as exc:
        log.debug("rls key not read at start", extra={"error": type(exc).__name__})


def apply_rls_settings(params: dict[str, str]) -> None:
    """Re-issue the RLS settings (``params`` from :func:`rls_params`) on the open transaction
    of ``db.session``, if any; nothing outside an app context."""
    session = current_session()
    if session is None or not session.in_transaction():
        return
    conn = transaction_connection(session)
    if conn is not None:
        conn.execute(RLS_SQL, params)
