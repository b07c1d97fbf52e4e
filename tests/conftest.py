"""Test fixtures: embedded PostgreSQL and Redis started by the session, a fresh database,
the app, a clean slate per test, and helpers to act inside a tenant.

With ``DATABASE_URL`` (an admin URL able to create roles and databases) and ``REDIS_URL``
set, those servers are used instead of the embedded ones.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis

from tests.support.database import TableCleaner
from tests.support.pgbouncer import PgBouncer
from tests.support.servers import running_gunicorn
from tests.support.translations import compile_catalogues

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.support.conftest_mail", "tests.browser"]
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.gettempdir())
compile_catalogues()


#: The kinds of test. Each test module declares its kind as ``pytestmark = pytest.mark.<kind>``
#: (tests live by the package they test, ``tests/<package>/``, not by kind).
KINDS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Check that every collected test carries exactly one kind marker (``unit``, ``integration`` or
    ``e2e``, from its module's ``pytestmark``), so ``pytest -m <kind>`` selects every test of that kind.

    Raises :class:`pytest.UsageError` naming the modules whose tests have none or more than one.
    """
    wrong = sorted({str(item.path) for item in items
                    if sum(1 for kind in KINDS if item.get_closest_marker(kind) is not None) != 1})
    if wrong:
        raise pytest.UsageError("each test module needs exactly one of pytestmark = pytest.mark."
                                + " / ".join(KINDS) + ": " + ", ".join(wrong))


@pytest.fixture(scope="session")
def services() -> Iterator[dict[str, str]]:
    """Start (or reuse from the environment) PostgreSQL and Redis; create a fresh database."""
    from app.devservices import EmbeddedPostgres, EmbeddedRedis, bootstrap_database, remove_tree

    external_db = os.environ.get("DATABASE_URL")
    external_redis = os.environ.get("REDIS_URL")
    tmp = Path(tempfile.mkdtemp(prefix="plaza-test-"))
    pg = redis_server = None
    if external_db:
        admin_url = external_db.replace("postgresql+psycopg://", "postgresql://")
    else:
        pg = EmbeddedPostgres(tmp / "postgres", durable=False).start()  # throw-away: fast
        admin_url = pg.superuser_url
    if external_redis:
        redis_url = external_redis
    else:
        redis_server = EmbeddedRedis(tmp / "redis").start()
        redis_url = redis_server.url
    dbname = f"plaza_test_{uuid.uuid4().hex[:8]}"
    urls = bootstrap_database(admin_url, dbname, recreate=True)
    owner_url = urls.owner
    env = {
        "DATABASE_URL": urls.app,
        "PLATFORM_DATABASE_URL": urls.platform,
        "MIGRATION_DATABASE_URL": owner_url,
        "REDIS_URL": redis_url,
        "ENV": "test",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "PLATFORM_DOMAIN": "localhost",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    migrated = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "heads"], cwd=ROOT,
                              env={**os.environ, **env}, capture_output=True, text=True)
    if migrated.returncode != 0:
        pytest.exit(f"the migrations failed:\n{migrated.stderr[-4000:]}", returncode=1)
    bouncer = None
    if os.environ.get("PLAZA_PGBOUNCER") == "1":  # the pooled run: the app's roles through PgBouncer
        roles = [urlsplit(url).username or "" for url in (urls.app, urls.platform)]
        bouncer = PgBouncer(tmp / "pgbouncer", urlsplit(admin_url).port or 5432, roles).start()
        env.update(DATABASE_URL=bouncer.route(urls.app), PLATFORM_DATABASE_URL=bouncer.route(urls.platform),
                   DATABASE_POOLER="pgbouncer")
        os.environ.update(env)
        # Tests' own psycopg connections to those URLs go through it too: no prepared statements.
        psycopg.connect = functools.partial(psycopg.connect, prepare_threshold=None)
    yield {**env, "OWNER_URL": owner_url, "ADMIN_URL": admin_url}
    # The in-process Socket.IO listener keeps retrying the Redis stopped below until the
    # interpreter exits; its retries would print tracebacks to a closed stream after the report.
    logging.disable(logging.CRITICAL)
    if bouncer is not None:
        bouncer.stop()
    if pg is not None:
        pg.stop()
    if redis_server is not None:
        redis_server.stop()
    remove_tree(tmp)


@pytest.fixture(scope="session")
def app(services):
    """The Flask app configured for the test database."""
    from flask.testing import FlaskClient

    from app import create_app

    class IsolatedClient(FlaskClient):
        """Runs each request in a fresh app context, so ``g`` (the logged-in user, tenant,
        roles) never leaks from a test's own ``ctx`` app context into a request."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # The suite's reader is a British-English browser (24-hour clock), like its Chromium
            # (tests.browser); tests of other languages send their own Accept-Language.
            self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en-GB,en;q=0.8")

        def open(self, *args, **kwargs):
            with self.application.app_context():
                return super().open(*args, **kwargs)

    application = create_app({"TESTING": True, "SERVER_NAME": None})
    application.test_client_class = IsolatedClient
    return application


@pytest.fixture(scope="session")
def table_cleaner(services) -> Iterator[TableCleaner]:
    """Empties the tables a test wrote to (:class:`tests.support.database.TableCleaner`)."""
    cleaner = TableCleaner(services["OWNER_URL"], services["ADMIN_URL"])
    yield cleaner
    cleaner.close()


@pytest.fixture(autouse=True)
def clean_state(request):
    """Each test that uses the database starts with empty tables (only those holding rows are
    truncated) and an empty Redis."""
    if "services" not in request.fixturenames and "app" not in request.fixturenames:
        yield
        return
    services = request.getfixturevalue("services")
    request.getfixturevalue("table_cleaner").clean()
    redis.Redis.from_url(services["REDIS_URL"]).flushdb()
    yield


@pytest.fixture
def ctx(app):
    """An app context with a clean session; rolls back anything left uncommitted."""
    from app.extensions import db

    with app.app_context():
        yield app
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def restore_taxonomy(ctx):
    """The taxonomy is kept across tests (tests/support/database.py): put it back as it was."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.tenants.context import platform_scope
    from app.tenants.models import MarketplaceCategory

    before = {c.slug: (c.name, c.position, c.active) for c in db.session.scalars(sa.select(MarketplaceCategory))}
    db.session.rollback()
    yield
    db.session.rollback()
    with platform_scope("test: restore the taxonomy"):
        for category in db.session.scalars(sa.select(MarketplaceCategory)).all():
            if category.slug not in before:
                db.session.delete(category)
            else:
                category.name, category.position, category.active = before[category.slug]
        db.session.commit()


@pytest.fixture
def media_root(app, tmp_path):
    """Uploaded files go to a temporary folder for the test (``MEDIA_ROOT``); yields its path."""
    before = app.config.get("MEDIA_ROOT")
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    yield tmp_path / "media"
    app.config["MEDIA_ROOT"] = before


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(services) -> Iterator[str]:
    """Plaza served by gunicorn on 127.0.0.1 (threads); yields ``http://localhost:<port>``.

    ONE worker, as in production (Procfile): every logged-in page opens a Socket.IO
    connection, and its long-polling requests must all reach the process that holds the session."""
    with running_gunicorn(services, threads=32) as server:
        yield server.url()
