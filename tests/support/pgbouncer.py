"""A throw-away PgBouncer in transaction pooling mode in front of the test PostgreSQL.

The pooled test run (``PLAZA_PGBOUNCER=1``, ``make test`` runs a subset so) sends every query of
the tenant and platform roles through it with few server connections per role, so consecutive
transactions of different tenants share a server connection: nothing may rely on session state
(session-level settings, prepared statements, session advisory locks, LISTEN). The configuration is
the one the README recommends for production, including ``server_reset_query_always``: a
connection that did set session state (the tests of hostile SQL in ``tests/tenants`` do) is
``DISCARD ALL``-ed before another client gets it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from app.devservices import free_port, stop_process, wait_port

#: The system user PgBouncer runs as when the tests run as root (it refuses root), as PostgreSQL does.
RUN_AS = "embedded_postgres"


def pgbouncer_binary() -> str | None:
    """Path of the ``pgbouncer`` executable (``PGBOUNCER_PATH``, ``PATH``, ``/usr/sbin``), or ``None``."""
    candidates = [os.environ.get("PGBOUNCER_PATH"), shutil.which("pgbouncer"), "/usr/sbin/pgbouncer"]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@dataclass
class PgBouncer:
    """PgBouncer on 127.0.0.1 forwarding every database to ``upstream_port`` (trust auth, as the
    throw-away test PostgreSQL), ``pool_size`` server connections per database and role."""

    datadir: Path
    upstream_port: int
    users: list[str]
    pool_size: int = 5
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def start(self) -> PgBouncer:
        """Write the configuration and start PgBouncer; wait until it listens.

        Raises:
            RuntimeError: no ``pgbouncer`` binary, or it did not start listening in 30 s.
        """
        binary = pgbouncer_binary()
        if binary is None:
            raise RuntimeError("pgbouncer not found (scripts/ensure-pgbouncer.sh installs it)")
        self.datadir.mkdir(parents=True, exist_ok=True)
        (self.datadir / "userlist.txt").write_text("".join(f'"{u}" ""\n' for u in self.users))
        (self.datadir / "pgbouncer.ini").write_text(f"""[databases]
* = host=127.0.0.1 port={self.upstream_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.datadir / "userlist.txt"}
pool_mode = transaction
server_reset_query = DISCARD ALL
server_reset_query_always = 1
default_pool_size = {self.pool_size}
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits,options
logfile = {self.datadir / "pgbouncer.log"}
pidfile = {self.datadir / "pgbouncer.pid"}
""")
        command = [binary, str(self.datadir / "pgbouncer.ini")]
        if os.geteuid() == 0:
            entry = pwd.getpwnam(RUN_AS)
            for path in [self.datadir, *self.datadir.iterdir()]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
            command[1:1] = ["-u", RUN_AS]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        wait_port(self.port)
        return self

    def route(self, url: str) -> str:
        """``url`` (a ``postgresql+psycopg://`` URL of the test PostgreSQL) through this PgBouncer."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)
        auth = netloc[0] + "@" if len(netloc) == 2 else ""
        return urlunsplit((parts.scheme, f"{auth}127.0.0.1:{self.port}", parts.path, parts.query, parts.fragment))

    def stop(self) -> None:
        """Terminate PgBouncer and wait for it."""
        stop_process(self.process)
