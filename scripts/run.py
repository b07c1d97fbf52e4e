"""``make run``: start what Plaza needs and run web + worker until Ctrl-C.

Without ``DATABASE_URL``/``REDIS_URL`` it starts embedded PostgreSQL (``var/postgres``)
and Redis (``var/redis``); without ``SMTP_URL`` it catches outgoing mail into
``var/mail/*.eml``. Then it migrates, seeds the demo data, and runs the Procfile
(web + worker) under honcho. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

from app.devservices import (  # noqa: E402
    APP_ROLE,
    OWNER_ROLE,
    PLATFORM_ROLE,
    EmbeddedPostgres,
    EmbeddedRedis,
    bootstrap_database,
    local_secrets,
)
from app.mailcatcher import MailCatcher  # noqa: E402

VAR = ROOT / "var"
BIN = Path(sys.executable).parent


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Start services, migrate, seed, run the Procfile; returns the exit code."""
    # Ctrl-C (SIGINT) and SIGTERM both stop everything, even when started from a shell
    # that made background jobs ignore SIGINT.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    VAR.mkdir(exist_ok=True)
    env = dict(os.environ)
    started: list = []
    port = env.setdefault("PORT", "5000")
    env.setdefault("PUBLIC_PORT", port)
    key_file = VAR / "secret_key"
    if "SECRET_KEY" not in env:
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
        env["SECRET_KEY"] = key_file.read_text().strip()
    try:
        if not env.get("DATABASE_URL"):
            # Durable (fsync on) with password authentication; the generated passwords are
            # kept in var/postgres-passwords.json (mode 0600).
            passwords = local_secrets(VAR / "postgres-passwords.json",
                                      ["postgres", OWNER_ROLE, APP_ROLE, PLATFORM_ROLE])
            pg = EmbeddedPostgres(VAR / "postgres", password=passwords["postgres"]).start()
            started.append(pg)
            urls = bootstrap_database(pg.superuser_url, "plaza", passwords=passwords)
            env["DATABASE_URL"] = urls.app
            env["PLATFORM_DATABASE_URL"] = urls.platform
            env["MIGRATION_DATABASE_URL"] = urls.owner
            print(f"PostgreSQL (embedded): 127.0.0.1:{pg.port}, data in var/postgres")
        if not env.get("REDIS_URL"):
            rd = EmbeddedRedis(VAR / "redis").start()
            started.append(rd)
            env["REDIS_URL"] = rd.url
            print(f"Redis (embedded): {rd.url}, data in var/redis")
        if not env.get("SMTP_URL"):
            catcher = MailCatcher(VAR / "mail").start()
            started.append(catcher)
            env["SMTP_URL"] = catcher.url
            print(f"Mail: caught locally at {catcher.url}; read it in var/mail/ (one .eml file per message)")
        flask = [str(BIN / "flask"), "--app", "wsgi"]
        subprocess.run([*flask, "db", "upgrade", "heads"], cwd=ROOT, env=env, check=True)
        subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True)
        domain = env.get("PLATFORM_DOMAIN", "localhost")
        print(f"""
Plaza is starting on port {port}.
  Platform:      http://{domain}:{port}/
  Bella (salon): http://bella.{domain}:{port}/      dashboard: http://bella.{domain}:{port}/dashboard/
  FixIt:         http://fixit.{domain}:{port}/
  Logins (password plaza-demo-2026): admin@plaza.test, owner@bella.test, owner@fixit.test
Press Ctrl-C to stop.
""", flush=True)
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        proc = subprocess.Popen([str(BIN / "honcho"), "-f", str(ROOT / "Procfile"), "start"], cwd=ROOT, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            return 0
    finally:
        for service in reversed(started):
            service.stop()
        print("Stopped everything make run started.")


if __name__ == "__main__":
    sys.exit(main())
