"""Database isolation between tests: empty only the tables a test wrote to.

Before each test that uses the database, :class:`TableCleaner` asks, in one query, which tables
hold any row (``EXISTS`` per table, cheap on empty tables) and truncates only those, instead of
truncating every table each time. The check runs as a role that sees every row (a superuser or a
``BYPASSRLS`` role, as the embedded PostgreSQL's ``postgres``): the tables force row-level
security, so the owner alone would see none and leave rows behind. When the admin role cannot
(an external server with a plain ``CREATEROLE`` admin), every table is truncated as before.
"""

from __future__ import annotations

import time

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

#: Tables kept across tests: the migration version, the RLS proof key and the reference data the
#: migrations seed (the marketplace taxonomy; a test that edits it restores it).
KEPT_TABLES = ("alembic_version", "rls_key", "marketplace_category")


def plain_url(url: str) -> str:
    """``url`` without SQLAlchemy's ``+psycopg`` driver suffix (what psycopg itself accepts)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


class TableCleaner:
    """Empties the tables of the test database between tests.

    ``owner_url``: the schema owner (truncates); ``admin_url``: the server's admin, used on the
    test database for the row check when it is a superuser or has ``BYPASSRLS``.
    """

    def __init__(self, owner_url: str, admin_url: str) -> None:
        self.owner_conninfo = plain_url(owner_url)
        dbname = conninfo_to_dict(self.owner_conninfo)["dbname"]
        self.admin_conninfo = make_conninfo(plain_url(admin_url), dbname=dbname)
        self._owner: psycopg.Connection | None = None
        self._admin: psycopg.Connection | None = None
        owner = self.owner()
        self.tables = [r[0] for r in owner.execute(
            "select tablename from pg_tables where schemaname = 'public' and tablename <> all(%s) order by 1",
            [list(KEPT_TABLES)])]
        admin = self._connect(self.admin_conninfo)
        sees_all = admin.execute("select rolsuper or rolbypassrls from pg_roles where rolname = current_user").fetchone()
        if sees_all and sees_all[0]:
            self._admin = admin
        else:
            admin.close()
        self._exists = sql.SQL(" union all ").join(
            sql.SQL("select {name} where exists (select 1 from {table})").format(
                name=sql.Literal(t), table=sql.Identifier(t)) for t in self.tables)

    @staticmethod
    def _connect(conninfo: str) -> psycopg.Connection:
        return psycopg.connect(conninfo, autocommit=True)

    def owner(self) -> psycopg.Connection:
        """The owner's connection (re-opened when a test closed or broke it)."""
        if self._owner is None or self._owner.closed or self._owner.broken:
            self._owner = self._connect(self.owner_conninfo)
        return self._owner

    def written_tables(self) -> list[str]:
        """Tables that hold at least one row (every table when rows cannot all be seen)."""
        if self._admin is None:
            return list(self.tables)
        if self._admin.closed or self._admin.broken:
            self._admin = self._connect(self.admin_conninfo)
        return [r[0] for r in self._admin.execute(self._exists)]

    def clean(self, attempts: int = 5) -> list[str]:
        """Truncate the tables that hold rows (``CASCADE``); returns their names.

        A request the live server is still finishing for a page the last test closed may read
        the same tables; when PostgreSQL picks the truncate as the victim of that deadlock, it is
        tried again (``attempts`` in all, 0.2 s apart), after the request has ended.

        Raises:
            psycopg.errors.DeadlockDetected: on the last attempt as well.
        """
        for _ in range(attempts - 1):
            try:
                return self._truncate_written()
            except psycopg.errors.DeadlockDetected:
                time.sleep(0.2)
        return self._truncate_written()

    def _truncate_written(self) -> list[str]:
        """One attempt of :meth:`clean`."""
        tables = self.written_tables()
        if tables:
            self.owner().execute(sql.SQL("truncate {} cascade").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in tables)))
        return tables

    def close(self) -> None:
        """Close both connections."""
        for conn in (self._owner, self._admin):
            if conn is not None and not conn.closed:
                conn.close()
