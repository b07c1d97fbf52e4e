"""``make backup`` / ``make restore FILE=…``: back up or restore the embedded database.

``make run`` keeps its PostgreSQL data in ``var/postgres`` and the generated passwords in
``var/postgres-passwords.json`` (mode 0600). A backup is one ``pg_dump`` file in custom
format under ``var/backups/`` (mode 0600), made as the superuser so that row-level
security does not hide any business's rows. It works whether or not ``make run`` is
running: when it is not, the embedded server is started for the backup and stopped after.

With external servers (``DATABASE_URL`` set) use ``pg_dump``/``pg_restore`` as a superuser
yourself; the README says how.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from app.devservices import (  # noqa: E402
    EmbeddedPostgres,
    dump_database,
    local_secrets,
    restore_database,
    running_port,
)

VAR = ROOT / "var"
DATADIR = VAR / "postgres"
PASSWORDS = VAR / "postgres-passwords.json"
DBNAME = "plaza"


def main(argv: list[str] | None = None) -> int:
    """Back up (default) or ``--restore FILE``; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restore", metavar="FILE", help="replace the embedded database with this backup")
    args = parser.parse_args(argv)
    if os.environ.get("DATABASE_URL"):
        print("DATABASE_URL is set: back up that server with pg_dump as a superuser (see the README).")
        return 2
    if not (DATADIR / "PG_VERSION").exists():
        print("No embedded database in var/postgres yet: run `make run` first.")
        return 2
    password = local_secrets(PASSWORDS, ["postgres"])["postgres"]
    port = running_port(DATADIR)
    if args.restore and port is not None:
        print("Stop `make run` first: a restore replaces every table the running app is using.")
        return 2
    pg = None
    if port is None:
        pg = EmbeddedPostgres(DATADIR, password=password).start()
        port = pg.port
    url = EmbeddedPostgres(DATADIR, port=port, password=password).superuser_url.rsplit("/", 1)[0] + f"/{DBNAME}"
    try:
        if args.restore:
            source = Path(args.restore)
            restore_database(url, source)
            print(f"Restored {source} into the embedded database '{DBNAME}'.")
        else:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            target = dump_database(url, VAR / "backups" / f"plaza-{stamp}.dump")
            print(f"Backup written to {target.relative_to(ROOT)} ({target.stat().st_size} bytes).")
    except subprocess.CalledProcessError as exc:
        print(exc.stderr or exc)
        return 1
    finally:
        if pg is not None:
            pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
