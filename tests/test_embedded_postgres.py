"""The embedded PostgreSQL that ``make run`` keeps data in is durable and password-protected,
and ``make backup`` / ``make restore`` round-trip a database."""

from __future__ import annotations

import stat
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from app.devservices import EmbeddedPostgres, dump_database, local_secrets, restore_database, running_port

pytestmark = pytest.mark.integration


def _settings(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(sql.SQL("show {}").format(sql.Identifier(name))).fetchone()[0]
                for name in ("fsync", "synchronous_commit", "full_page_writes")}


def _refuses_without_password(port: int) -> bool:
    try:
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        return "password" in str(exc)
    return False


def test_make_run_database_is_durable_and_needs_a_password(tmp_path: Path) -> None:
    secrets = local_secrets(tmp_path / "passwords.json", ["postgres"])
    assert stat.S_IMODE((tmp_path / "passwords.json").stat().st_mode) == 0o600
    pg = EmbeddedPostgres(tmp_path / "pg", password=secrets["postgres"]).start()
    try:
        assert _settings(pg.superuser_url) == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
        assert _refuses_without_password(pg.port)
        assert running_port(tmp_path / "pg") == pg.port
    finally:
        pg.stop()
    assert running_port(tmp_path / "pg") is None
    # The same passwords are found again on the next start.
    assert local_secrets(tmp_path / "passwords.json", ["postgres"]) == secrets


def test_a_data_directory_made_with_trust_is_converted_to_passwords(tmp_path: Path) -> None:
    fast = EmbeddedPostgres(tmp_path / "pg", durable=False).start()
    fast.stop()
    pg = EmbeddedPostgres(tmp_path / "pg", password="s3cret-for-this-test").start()
    try:
        assert _refuses_without_password(pg.port)
        assert _settings(pg.superuser_url)["fsync"] == "on"
    finally:
        pg.stop()


def test_durable_mode_without_a_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="password"):
        EmbeddedPostgres(tmp_path / "pg")


def test_backup_then_restore_brings_back_every_business(services, ctx, tmp_path: Path) -> None:
    from tests.factories import make_business

    make_business("bella")
    make_business("fixit", timezone="America/New_York", currency="USD")
    admin = services["ADMIN_URL"]
    source_db = services["OWNER_URL"].rsplit("/", 1)[1]
    dump = dump_database(admin.rsplit("/", 1)[0] + f"/{source_db}", tmp_path / "backups" / "plaza.dump")
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert not list((tmp_path / "backups").glob("*.partial"))

    copy = f"plaza_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {} owner plaza_owner").format(sql.Identifier(copy)))
    try:
        restore_database(admin.rsplit("/", 1)[0] + f"/{copy}", dump)
        with psycopg.connect(admin.rsplit("/", 1)[0] + f"/{copy}") as conn:
            slugs = [r[0] for r in conn.execute("select slug from tenant order by slug")]
            owner = conn.execute("select tableowner from pg_tables where tablename = 'booking'").fetchone()[0]
        assert slugs == ["bella", "fixit"]
        assert owner == "plaza_owner"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(copy)))


def test_a_broken_backup_file_changes_nothing(services, ctx, tmp_path: Path) -> None:
    from tests.factories import make_business

    make_business("bella")
    admin = services["ADMIN_URL"]
    target = admin.rsplit("/", 1)[0] + "/" + services["OWNER_URL"].rsplit("/", 1)[1]
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP not really a dump")
    with pytest.raises(subprocess.CalledProcessError):
        restore_database(target, broken)
    with psycopg.connect(target) as conn:
        assert conn.execute("select count(*) from tenant").fetchone()[0] == 1
