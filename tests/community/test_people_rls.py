"""A person's favourites and recently viewed businesses are theirs alone: on a business's host
the tenant database role reads and writes only the logged-in person's rows (``app.user_id``),
whatever SQL it runs; the platform role (apex) reads every row, and the code filters by user."""

from __future__ import annotations

import psycopg
import pytest

from app.extensions import db
from tests.factories import make_business, make_user
from tests.helpers import tenant_settings

pytestmark = pytest.mark.integration

PERSON_TABLES = ("customer_favourite", "recently_viewed")


def _url(services, key: str) -> str:
    return services[key].replace("postgresql+psycopg://", "postgresql://")


def test_the_tenant_role_sees_and_writes_only_the_logged_in_persons_rows(services, ctx):
    biz = make_business("bella")
    cara, dan = make_user("cara@example.com"), make_user("dan@example.com")
    db.session.remove()
    with psycopg.connect(_url(services, "OWNER_URL"), autocommit=True) as owner:
        for table, col in (("customer_favourite", "created_at"), ("recently_viewed", "viewed_at")):
            for user in (cara, dan):
                owner.execute(f"insert into {table} (user_id, business_id, {col}) values (%s, %s, now())",  # noqa: S608
                              [user, biz.tenant_id])
        for table in PERSON_TABLES:
            enabled, forced = owner.execute("select relrowsecurity, relforcerowsecurity from pg_class "
                                            "where oid = %s::regclass", [table]).fetchone()
            assert enabled and forced, table
    with psycopg.connect(_url(services, "DATABASE_URL"), autocommit=True) as conn:
        conn.execute(*tenant_settings(biz.tenant_id, local=False))
        for table in PERSON_TABLES:  # no person in scope: nothing
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 0, table  # noqa: S608
        conn.execute("select set_config('app.user_id', %s, false)", [str(cara)])
        conn.execute("set app.platform = 'on'")  # no bypass for the tenant role
        for table in PERSON_TABLES:
            assert {r[0] for r in conn.execute(f"select user_id from {table}")} == {cara}, table  # noqa: S608
            assert conn.execute(f"delete from {table} where user_id = %s", [dan]).rowcount == 0  # noqa: S608
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # cannot write a row for someone else
            conn.execute("insert into customer_favourite (user_id, business_id, created_at) values (%s, %s, now())",
                         [dan, make_business_id(services)])
    with psycopg.connect(_url(services, "PLATFORM_DATABASE_URL"), autocommit=True) as platform:
        for table in PERSON_TABLES:
            assert platform.execute(f"select count(*) from {table}").fetchone()[0] == 2, table  # noqa: S608


def make_business_id(services) -> object:
    """Any business id (the owner reads it)."""
    with psycopg.connect(_url(services, "OWNER_URL")) as owner:
        return owner.execute("select id from tenant limit 1").fetchone()[0]
