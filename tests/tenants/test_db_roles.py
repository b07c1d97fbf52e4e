"""Isolation in depth: the database role serving tenant hosts sees one tenant whatever SQL
it runs, cannot read password hashes or write ``alembic_version``; the platform role serves
the apex, signup and jobs spanning tenants; each unit of work runs on the role chosen in code.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.jobs.runner import run_in_tenant, run_on_platform
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.errors import PlatformRoleRequired
from app.tenants.models import Tenant
from app.tenants.roles import current_user_of_transaction
from tests.factories import PASSWORD, make_business
from tests.helpers import csrf_from, tenant_settings

pytestmark = pytest.mark.integration

TENANT_LOGIN = "plaza_app"
PLATFORM_LOGIN = "plaza_platform_app"


def _url(services, key: str) -> str:
    return services[key].replace("postgresql+psycopg://", "postgresql://")


def _tenant_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped "
        "where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1")]


def _two_businesses(ctx):
    """Bella and FixIt, each with staff, a service, hours, a booking and a custom domain."""
    from datetime import UTC, datetime, timedelta

    from app.booking.service import CustomerInput, create_booking
    from app.scheduling.service import find_slots
    from app.tenants.models import TenantDomain

    a, b = make_business("bella"), make_business("fixit")
    start = datetime.now(UTC).date() + timedelta(days=3)
    for biz in (a, b):
        with tenant_scope(biz.tenant_id):
            tenant = db.session.get(Tenant, biz.tenant_id)
            from app.catalog.models import Service

            svc = db.session.get(Service, (biz.tenant_id, biz.service_ids[0]))
            slot = find_slots(tenant, svc, staff_id=None, start_date=start, end_date=start + timedelta(days=2))[0]
            create_booking(tenant, service_id=svc.id, staff_id=None, start=slot.start,
                           customer=CustomerInput("Cust", f"c@{biz.slug}.test"), customer_timezone="UTC")
            db.session.add(TenantDomain(tenant_id=biz.tenant_id, domain=f"book.{biz.slug}.example"))
            db.session.flush()
        db.session.commit()
    return a, b


def test_tenant_role_sees_only_its_tenant_whatever_it_sets(ctx, services):
    a, b = _two_businesses(ctx)
    with psycopg.connect(_url(services, "OWNER_URL")) as owner:
        owner.execute("select set_config('app.platform', 'on', false)")
        tables = _tenant_tables(owner)
        # The other business really has rows the tenant role must not see.
        for table in ("booking", "customer", "service", "staff_member", "membership", "tenant_domain", "outbox_event"):
            n = owner.execute(f"select count(*) from {table} where tenant_id = %s", [b.tenant_id]).fetchone()[0]  # noqa: S608
            assert n > 0, table
    with psycopg.connect(_url(services, "DATABASE_URL"), autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone()[0] == TENANT_LOGIN
        # Nothing at all with no tenant set, even with the platform flag on.
        conn.execute("select set_config('app.platform', 'on', false)")
        for table in tables:
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 0, table  # noqa: S608
        # Everything the role may set, and what it may not.
        conn.execute(*tenant_settings(a.tenant_id, local=False))
        conn.execute("set app.platform = 'on'")
        conn.execute("set role plaza_tenant")
        conn.execute("reset role")
        for forbidden in ("set role plaza_platform", "set role plaza_owner", "set role postgres",
                          "set session authorization plaza_platform_app", "set session authorization postgres"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(forbidden)
        for attempt in ("set role plaza_tenant", "reset role"):
            conn.execute(attempt)
            for table in tables:
                seen = {r[0] for r in conn.execute(f"select distinct tenant_id from {table}")}  # noqa: S608
                assert seen <= {a.tenant_id, None}, table
            assert conn.execute("select count(*) from booking").fetchone()[0] == 1
        # And it cannot write into the other business either.
        assert conn.execute("update service set name = 'pwned' where tenant_id = %s", [b.tenant_id]).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into tenant_domain (tenant_id, domain) values (%s, 'evil.example')", [b.tenant_id])
        # Pointing app.tenant_id at the other business, with no proof, its own business's proof or
        # a made-up one, shows nothing of it: only the app can make a business's proof.
        _, (_, proof_a) = tenant_settings(a.tenant_id)
        for proof in ("", proof_a, "0" * 64):
            conn.execute("select set_config('app.tenant_id', %s, false), set_config('app.tenant_proof', %s, false)",
                         [str(b.tenant_id), proof])
            for table in [*tables, "tenant"]:
                column = "id" if table == "tenant" else "tenant_id"
                assert conn.execute(f"select count(*) from {table} where {column} = %s",  # noqa: S608
                                    [b.tenant_id]).fetchone()[0] == 0, (table, proof)
            assert conn.execute("update service set name = 'pwned' where tenant_id = %s",
                                [b.tenant_id]).rowcount == 0


def test_switching_the_tenant_part_way_through_a_statement_shows_nothing_of_the_other(ctx, services):
    """The proof is checked once per statement (an InitPlan), together with the id it proves: a
    statement that proves its own business and then points ``app.tenant_id`` at another one
    row by row (``set_config`` in the select list or the WHERE clause) still sees only rows of
    the business it proved, never the other's."""
    a, b = _two_businesses(ctx)
    with psycopg.connect(_url(services, "DATABASE_URL"), autocommit=True) as conn:
        conn.execute(*tenant_settings(a.tenant_id, local=False))
        own = conn.execute("select count(*) from booking").fetchone()[0]
        assert own == 1
        for sql in (
            "select tenant_id, set_config('app.tenant_id', %(b)s::text, false) from booking",
            "select tenant_id from booking where set_config('app.tenant_id', %(b)s::text, false) is not null",
            "select tenant_id from (select set_config('app.tenant_id', %(b)s::text, false) as s) x, booking",
            "select tenant_id from booking where tenant_id = %(b)s::uuid "
            "or set_config('app.tenant_id', %(b)s::text, false) is null",
        ):
            conn.execute(*tenant_settings(a.tenant_id, local=False))
            seen = {r[0] for r in conn.execute(sql, {"b": str(b.tenant_id)})}
            assert b.tenant_id not in seen, sql
            # once switched, the next statement proves nothing: the other business stays hidden
            assert conn.execute("select count(*) from booking where tenant_id = %s",
                                [b.tenant_id]).fetchone()[0] == 0, sql


def test_every_tenant_table_has_forced_rls_and_no_bypass_for_the_tenant_role(services):
    """New tables cannot forget it: every table with a tenant_id column is checked."""
    with psycopg.connect(_url(services, "OWNER_URL")) as conn:
        tables = _tenant_tables(conn)
        assert {"notification", "delivery", "marketing_consent", "tenant_domain"} <= set(tables)
        for table in [*tables, "tenant"]:  # the business's own row (name, slug, suspension, limits) too
            enabled, forced = conn.execute(
                "select relrowsecurity, relforcerowsecurity from pg_class where oid = %s::regclass", [table]).fetchone()
            assert enabled and forced, f"{table}: ENABLE + FORCE ROW LEVEL SECURITY"
            policies = conn.execute("select policyname, roles::text[], coalesce(qual, ''), coalesce(with_check, '') "
                                    "from pg_policies where schemaname = 'public' and tablename = %s", [table]).fetchall()
            assert policies, f"{table}: no policy"
            for name, roles, qual, check in policies:
                if set(roles) & {"public", "plaza_tenant"}:
                    assert "app.platform" not in qual + check, f"{table}.{name}: a bypass the tenant role can set"
                    assert "plaza_proven_tenant_id()" in qual and "plaza_proven_tenant_id()" in check, \
                        f"{table}.{name}: not limited to the tenant the app proved"
                    if table in ("notification", "delivery", "marketing_consent"):
                        assert "app.user_id" in qual and "app.user_id" in check, f"{table}.{name}: every person's rows"


def test_no_role_bypasses_rls_and_the_tenant_role_cannot_become_platform(services):
    with psycopg.connect(_url(services, "OWNER_URL")) as conn:
        rows = conn.execute("select rolname, rolsuper, rolbypassrls from pg_roles where rolname in "
                            "('plaza_owner', 'plaza_app', 'plaza_platform_app', 'plaza_tenant', 'plaza_platform')"
                            ).fetchall()
        assert len(rows) == 5 and all(not sup and not bypass for _, sup, bypass in rows)
        assert conn.execute("select pg_has_role('plaza_app', 'plaza_platform', 'member'), "
                            "pg_has_role('plaza_app', 'plaza_owner', 'member')").fetchone() == (False, False)


def test_tenant_role_cannot_read_password_hashes(ctx, services):
    make_business("bella")
    with psycopg.connect(_url(services, "DATABASE_URL")) as conn:
        assert conn.execute("select count(email) from user_account").fetchone()[0] == 1
        for sql in ("select password_hash from user_account", "select * from user_account",
                    "select count(*) from user_account where password_hash like '$argon2%'"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()
    with psycopg.connect(_url(services, "PLATFORM_DATABASE_URL")) as conn:
        assert conn.execute("select password_hash from user_account").fetchone()[0].startswith("$argon2")


@pytest.mark.parametrize("key", ["DATABASE_URL", "PLATFORM_DATABASE_URL"])
def test_app_roles_cannot_write_alembic_version(services, key):
    with psycopg.connect(_url(services, key)) as conn:
        for sql in ("update alembic_version set version_num = 'x'", "delete from alembic_version",
                    "insert into alembic_version values ('x')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()


def test_tenant_role_reads_the_marketplace_taxonomy_but_cannot_change_it(services):
    with psycopg.connect(_url(services, "DATABASE_URL")) as conn:
        slugs = [r[0] for r in conn.execute("select slug from marketplace_category order by position")]
        assert slugs[:3] == ["hair", "barber", "nails"] and len(slugs) == 12
        for sql in ("update marketplace_category set name = 'x'", "delete from marketplace_category",
                    "insert into marketplace_category (slug, name) values ('x', 'X')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
            conn.rollback()


def test_tenant_host_request_runs_on_the_tenant_role_and_apex_on_the_platform_role(app, ctx):
    make_business("bella")
    db.session.remove()
    from app.tenants.resolve import HOST_CACHE_SECONDS  # noqa: F401 - the cache is per process

    for _ in range(2):  # the first request looks the host up, the second finds it cached
        with app.test_request_context("/", base_url="http://bella.localhost"):
            assert app.preprocess_request() is None
            assert current_user_of_transaction() == TENANT_LOGIN
            db.session.remove()
    with app.test_request_context("/", base_url="http://localhost"):
        assert app.preprocess_request() is None
        assert current_user_of_transaction() == PLATFORM_LOGIN
        db.session.remove()


def test_platform_scope_refuses_a_tenant_role_transaction_that_wrote(ctx):
    from app.catalog.service import create_service

    biz = make_business("bella")
    with tenant_scope(biz.tenant_id):
        create_service(name="Beard", duration_minutes=30, price_amount=100, currency="DKK", staff_ids=[])
        db.session.flush()
        assert current_user_of_transaction() == TENANT_LOGIN
        with pytest.raises(PlatformRoleRequired):
            with platform_scope("test: widen a tenant transaction"):
                pass
    db.session.rollback()
    with tenant_scope(biz.tenant_id):  # only read: ended, and the block runs on the platform role
        assert current_user_of_transaction() == TENANT_LOGIN
        with platform_scope("test: its own transaction"):
            assert current_user_of_transaction() == PLATFORM_LOGIN
            assert db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == 1
    db.session.rollback()


def test_jobs_run_on_the_role_of_their_scope(ctx):
    biz = make_business("bella")
    db.session.commit()
    assert run_in_tenant(str(biz.tenant_id), current_user_of_transaction) == TENANT_LOGIN
    assert run_on_platform(current_user_of_transaction) == PLATFORM_LOGIN


def test_login_on_a_tenant_host_checks_the_password_through_the_platform_role(client, ctx):
    biz = make_business("bella")
    base = "http://bella.localhost"
    page = client.get("/login", base_url=base)
    token = csrf_from(page.data)
    wrong = client.post("/login", base_url=base, data={"csrf_token": token, "email": biz.owner_email,
                                                       "password": "not-the-password"})
    assert wrong.status_code in (200, 401, 422) and b"Wrong email or password" in wrong.data
    ok = client.post("/login", base_url=base, data={"csrf_token": token, "email": biz.owner_email,
                                                    "password": PASSWORD})
    assert ok.status_code in (302, 303)
    assert client.get("/dashboard/", base_url=base).status_code == 200


def test_apex_and_signup_work_on_the_platform_role(client, ctx):
    assert client.get("/", base_url="http://localhost").status_code == 200
    page = client.get("/signup", base_url="http://localhost")
    assert page.status_code == 200


def test_tenant_role_sees_push_subscriptions_of_its_people_only(ctx, services):
    from tests.factories import make_user

    biz = make_business("bella")
    stranger = make_user("stranger@example.com")
    with psycopg.connect(_url(services, "PLATFORM_DATABASE_URL")) as conn:
        for email in (biz.owner_email, "stranger@example.com"):
            conn.execute("insert into push_subscription (id, user_id, endpoint, p256dh, auth, user_agent, created_at) "
                         "select gen_random_uuid(), id, 'https://push.example/' || email, 'k', 'a', '', now() "
                         "from user_account where email = %s", [email])
    with psycopg.connect(_url(services, "DATABASE_URL"), autocommit=True) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        assert conn.execute("select count(*) from push_subscription").fetchone()[0] == 0
        conn.execute(*tenant_settings(biz.tenant_id, local=False))
        seen = [r[0] for r in conn.execute("select endpoint from push_subscription")]
        assert seen == [f"https://push.example/{biz.owner_email}"]
        # A write for someone else is refused even where the row is visible.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into push_subscription (id, user_id, endpoint, p256dh, auth, user_agent, created_at) "
                         "values (gen_random_uuid(), %s, 'https://evil.example/x', 'k', 'a', '', now())", [stranger])


def test_a_person_saves_their_push_subscription_on_a_business_host(client, ctx, services):
    """On the tenant role the logged-in person (app.user_id) may write their own subscription."""
    from tests.factories import make_user
    from tests.helpers import login_as

    make_business("bella")
    make_user("visitor@example.com")
    login_as(client, "visitor@example.com", host="bella.localhost")
    base = "http://bella.localhost"
    token = client.get("/notifications/push/key", base_url=base).json["csrf"]
    resp = client.post("/notifications/push/subscribe", base_url=base, headers={"X-CSRFToken": token},
                       json={"endpoint": "https://push.example/v1/visitor", "keys": {"p256dh": "k" * 40, "auth": "a" * 16}})
    assert resp.status_code == 201
    with psycopg.connect(_url(services, "PLATFORM_DATABASE_URL")) as conn:
        assert conn.execute("select u.email from push_subscription p join user_account u on u.id = p.user_id"
                            ).fetchall() == [("visitor@example.com",)]


def _settings_the_tenant_role_may_set(tenant_ids: list[str], user_ids: list[str]):
    """Every combination of the settings an injected statement could issue (but the ones named)."""
    for tid in tenant_ids:
        for platform in ("on", "off", ""):
            for uid in user_ids:
                yield tid, platform, uid


def test_tenant_role_cannot_change_another_business(ctx, services):
    """The ``tenant`` row holds name, slug, suspension and limits: the tenant role serving one
    business may change only that business's row, whatever it sets."""
    from tests.factories import make_user

    a, b = make_business("bella"), make_business("fixit")
    stranger = make_user("stranger@example.com")
    db.session.commit()
    with psycopg.connect(_url(services, "DATABASE_URL"), autocommit=True) as conn:
        for tid, platform, uid in _settings_the_tenant_role_may_set(["", str(a.tenant_id)], ["", str(stranger)]):
            conn.execute("select set_config('app.tenant_id', %s, false), set_config('app.platform', %s, false), "
                         "set_config('app.user_id', %s, false)", [tid, platform, uid])
            for attempt in ("set role plaza_tenant", "reset role"):
                conn.execute(attempt)
                for sql in ("update tenant set name = 'pwned', suspended_at = now() where id = %s",
                            "update tenant set slug = 'pwned' where id = %s"):
                    assert conn.execute(sql, [b.tenant_id]).rowcount == 0, (tid, platform, uid, sql)
                seen = {r[0] for r in conn.execute("select id from tenant")}
                assert seen <= {a.tenant_id}, (tid, platform, uid)
        # Its own business it may still change (settings pages), but not turn into another.
        conn.execute(*tenant_settings(a.tenant_id, local=False))
        assert conn.execute("update tenant set name = 'Bella Salon' where id = %s", [a.tenant_id]).rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update tenant set id = %s where id = %s", [str(uuid.uuid4()), a.tenant_id])
    with psycopg.connect(_url(services, "PLATFORM_DATABASE_URL")) as conn:
        name, slug, suspended = conn.execute("select name, slug, suspended_at from tenant where id = %s",
                                             [b.tenant_id]).fetchone()
        assert (slug, suspended) == ("fixit", None) and name != "pwned"


def test_tenant_role_sees_account_wide_notifications_of_the_logged_in_person_only(ctx, services):
    """Rows without a business (``tenant_id`` null) belong to one person across businesses: the
    tenant role sees those of ``app.user_id`` only, never every person's."""
    from tests.factories import make_user

    a = make_business("bella")
    victim, me = make_user("victim@example.com"), make_user("me@example.com")
    db.session.commit()
    with psycopg.connect(_url(services, "PLATFORM_DATABASE_URL")) as conn:
        for uid in (victim, me):
            nid = conn.execute(
                "insert into notification (id, user_id, tenant_id, type, audience, category, subject_key, title, body, "
                "url, context, count, created_at, updated_at) values (gen_random_uuid(), %s, null, 'account.test', "
                "'customer', 'transactional', '', 'Secret of ' || %s::text, '', '', '{}', 1, now(), now()) returning id",
                [uid, uid]).fetchone()[0]
            conn.execute("insert into delivery (id, dedup_key, notification_id, user_id, tenant_id, channel, recipient, "
                         "subject, status, attempts, log, created_at, updated_at) values (gen_random_uuid(), "
                         "'notification:' || %s::text || ':email', %s, %s, null, 'email', 'x@example.com', '', 'queued', "
                         "0, '[]', now(), now())", [nid, nid, uid])
            conn.execute("insert into marketing_consent (id, user_id, tenant_id, granted_at, method, source) "
                         "values (gen_random_uuid(), %s, null, now(), 'test', '')", [uid])
    with psycopg.connect(_url(services, "DATABASE_URL"), autocommit=True) as conn:
        for tid, platform, uid in _settings_the_tenant_role_may_set(
                ["", str(a.tenant_id)], ["", str(me)]):
            conn.execute("select set_config('app.tenant_id', %s, false), set_config('app.platform', %s, false), "
                         "set_config('app.user_id', %s, false)", [tid, platform, uid])
            for table in ("notification", "delivery", "marketing_consent"):
                seen = {r[0] for r in conn.execute(f"select user_id from {table} where tenant_id is null")}  # noqa: S608
                assert seen == ({me} if uid else set()), (table, tid, platform, uid)
                assert conn.execute(f"update {table} set user_id = user_id where user_id = %s",  # noqa: S608
                                    [victim]).rowcount == 0, table
        # Nor may it write an account-wide row for someone else.
        conn.execute("select set_config('app.user_id', %s, false)", [str(me)])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("insert into marketing_consent (id, user_id, tenant_id, granted_at, method, source) "
                         "values (gen_random_uuid(), %s, null, now(), 'forged', '')", [victim])
