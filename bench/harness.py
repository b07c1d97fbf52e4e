"""What every benchmark in ``bench/`` shares: an embedded PostgreSQL + Redis stack with a
migrated database, gunicorn processes, percentiles, and recording a table in ``README.md``.

Each benchmark is a script (``python bench/<name>.py [--write]``) that sets up its data on a
:func:`stack`, starts what it measures with :func:`gunicorn`, and records its Markdown table
between ``<!-- marker -->`` lines of ``bench/README.md`` with :func:`record`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "bench" / "README.md"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())

from app.devservices import wait_port  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0–100) of ``values`` by nearest rank."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def p99(values: list[float]) -> float:
    """The 99th percentile of ``values`` by nearest rank."""
    return percentile(values, 99)


@dataclass(frozen=True)
class Stack:
    """A running embedded stack: ``owner_url`` (migrations, direct reads), ``app_url`` (the
    app role), ``redis_url``, and ``env``, the environment Plaza processes get."""

    owner_url: str
    app_url: str
    redis_url: str
    env: dict[str, str]

    @property
    def owner_dsn(self) -> str:
        """``owner_url`` for psycopg (no SQLAlchemy driver suffix)."""
        return self.owner_url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def stack(name: str, **settings: str) -> Iterator[Stack]:
    """Start embedded PostgreSQL and Redis, create database ``name`` with its two roles, apply
    the migrations, and put the settings in ``os.environ`` (so this process's ``create_app``
    and every child use them); ``settings`` add to or override the defaults. Stops and removes
    everything on exit."""
    from app.devservices import EmbeddedPostgres, EmbeddedRedis, bootstrap_database, remove_tree

    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    pg = EmbeddedPostgres(tmp / "pg", durable=False).start()  # throw-away: fast
    rd = EmbeddedRedis(tmp / "redis").start()
    try:
        owner_url, app_url, platform_url = bootstrap_database(pg.superuser_url, name)
        env = {"DATABASE_URL": app_url, "PLATFORM_DATABASE_URL": platform_url, "MIGRATION_DATABASE_URL": owner_url,
               "REDIS_URL": rd.url,
               "SECRET_KEY": "bench-secret", "RATELIMIT_ENABLED": "false", "LOG_LEVEL": "ERROR",
               "ENV": "development", "PLATFORM_DOMAIN": "localhost", **settings}
        os.environ.update(env)
        flask(["db", "upgrade", "heads"])
        yield Stack(owner_url, app_url, rd.url, dict(os.environ))
    finally:
        rd.stop()
        pg.stop()
        remove_tree(tmp)


def flask(args: list[str]) -> None:
    """Run ``flask --app wsgi <args>`` with the current environment.

    Raises:
        subprocess.CalledProcessError: the command failed.
    """
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=os.environ, check=True,
                   capture_output=True)


def gunicorn(target: str, port: int, *, workers: int = 2, threads: int = 8) -> subprocess.Popen:
    """gunicorn serving ``target`` on 127.0.0.1:``port`` with ``workers`` gthread workers of
    ``threads`` threads, started in its own session; returns once it accepts connections.

    ``PORT`` is set to ``port``, so Plaza serves Hosts naming it (``bella.localhost:<port>``)."""
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(workers),
                             "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "error", target],
                            cwd=ROOT, env={**os.environ, "PORT": str(port)}, start_new_session=True)
    try:
        wait_port(port)
    except RuntimeError:
        proc.kill()
        raise
    return proc


def stop(*procs: subprocess.Popen | None) -> None:
    """Terminate the processes, killing any that is still running after 10 s."""
    for proc in procs:
        if proc is None:
            continue
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def record(marker: str, block: str) -> None:
    """Put ``block`` between the two ``<!-- marker -->`` lines of ``bench/README.md`` (appending
    the section when the marker is not there yet)."""
    tag = f"<!-- {marker} -->"
    text = README.read_text() if README.exists() else ""
    section = f"{tag}\n{block.strip()}\n{tag}"
    if tag in text:
        text = re.sub(f"{re.escape(tag)}.*?{re.escape(tag)}", lambda _: section, text, count=1, flags=re.S)
    else:
        text += "\n" + section + "\n"
    README.write_text(text)
