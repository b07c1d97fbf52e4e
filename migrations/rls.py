"""Row-level security and grants for migrations (README, Deploying: the three roles).

The migrations write policies for and grant to two fixed NOLOGIN group roles, which must
exist before ``flask db upgrade`` (``bootstrap_database`` creates them; on an external server
the DBA does): ``plaza_tenant`` (the login role serving tenant hosts is a member) and
``plaza_platform`` (the platform login role and the owner are members).

Every table with a ``tenant_id`` gets ``ENABLE`` + ``FORCE ROW LEVEL SECURITY`` and:

* ``tenant_rows`` (every role): rows whose ``tenant_id`` is the transaction's
  ``app.tenant_id``. The tenant role has no other policy: nothing it can set widens it.
* ``platform_rows`` (``plaza_platform`` only): any row while the transaction-local
  ``app.platform`` is ``on`` (``platform_scope``).

The ``tenant`` table itself (migration ``g1_tenant_row_rls``) is forced too: the tenant role
reads and updates only the row whose ``id`` is ``app.tenant_id``; the platform role reads
every row (host lookup by slug, signup's slug check), inserts (signup), and changes any row
only with ``app.platform`` on or the business in scope.

:func:`apply_grants` is the one place privileges are decided; every migration that adds a
table (or a column to ``user_account``) ends with it.
"""

from alembic import op

TENANT_GROUP = "plaza_tenant"
PLATFORM_GROUP = "plaza_platform"
#: The login role of databases bootstrapped before the three roles; its direct grants are revoked.
LEGACY_APP_ROLE = "plaza_app"
#: Kept for older migrations that name it.
APP_ROLE = LEGACY_APP_ROLE

#: Rows that belong to a person across businesses (``tenant_id`` nullable): the platform role
#: reads and writes them without the flag (the code filters by ``user_id``); the tenant role
#: sees its business's rows and the logged-in person's (``app.user_id``) platform-wide ones
#: (``tenant_id`` null), never another business's nor another person's account-wide rows.
#: ``delivery`` is one from migration ``j10a_one_delivery_table`` on (it absorbed
#: ``notification_delivery``); before that it had no ``user_id`` and got the plain tenant policies.
PERSON_TABLES = ("notification", "notification_delivery", "marketing_consent", "delivery")
#: The tenant role's test for a person's own row (``app.user_id``: the logged-in person, set by the app).
PERSON_MINE = "user_id::text = current_setting('app.user_id', true)"
#: Platform tables (no ``tenant_id``) the tenant role may read but never change: the marketplace's
#: taxonomy and read model are written by the platform role only.
PLATFORM_READ_TABLES = ("marketplace_category", "marketplace_listing", "marketplace_word", "platform_setting",
                        "job_question", "job_complexity_tier", "listed_post")
#: Platform tables the tenant role may not touch at all: the Stripe event ledger, the platform's
#: broadcasts, platform admins' second factor, the audit chain's head, job requests and the
#: console's platform-wide metrics.
PLATFORM_ONLY_TABLES = ("stripe_webhook_event", "broadcast", "broadcast_recipient", "admin_totp",
                        "admin_recovery_code", "audit_chain_head", "job_request", "metrics_platform_day",
                        "metrics_city_day", "job_routing_candidate", "dispatch_request")
#: Host -> tenant mapping the platform role reads (and keeps) before any tenant is in scope.
HOST_TABLES = ("tenant_domain",)


#: True when the transaction's ``app.tenant_id`` carries the proof only the app can make
#: (``app.tenant_proof``, a MAC over the id with the key in ``rls_key``; migration h1_tenant_proof).
PROVEN = "plaza_tenant_proven()"
#: The transaction's ``app.tenant_id`` as a uuid when it carries the app's proof, else NULL
#: (migration m17a1_rls_proof_once). Policies compare with it through a scalar sub-select, so
#: PostgreSQL works it out once per statement (an InitPlan) instead of once per row.
PROVEN_ID = "(select plaza_proven_tenant_id())"


def tenant_tables() -> list[str]:
    """The tables of schema public with a ``tenant_id`` column, by name."""
    rows = op.get_bind().exec_driver_sql(
        "select c.relname from pg_class c join pg_attribute a on a.attrelid = c.oid "
        "join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'public' and c.relkind = 'r' and a.attname = 'tenant_id' and not a.attisdropped "
        "order by c.relname").fetchall()
    return [r[0] for r in rows]


def function_installed(signature: str) -> bool:
    """True when the function ``signature`` (e.g. ``plaza_tenant_proven()``) exists in schema public."""
    return bool(op.get_bind().exec_driver_sql(
        f"select to_regprocedure('public.{signature}') is not null").scalar())


def tenant_proof_installed() -> bool:
    """True once migration ``h1_tenant_proof`` created ``plaza_tenant_proven()``."""
    return function_installed("plaza_tenant_proven()")


def own_tenant(column: str) -> str:
    """The policy test that a row's ``column`` (``tenant_id``, or ``id`` of ``tenant``) is the
    transaction's business, in the strongest form the database has so far: compared once per
    statement with the proven id (from m17a1), per row with the id and its proof (from h1), or
    with the bare id (before h1)."""
    if function_installed("plaza_proven_tenant_id()"):
        return f"{column} = {PROVEN_ID}"
    own = f"{column}::text = current_setting('app.tenant_id', true)"
    return f"({own} and {PROVEN})" if tenant_proof_installed() else own


def require_groups() -> None:
    """Fail the migration clearly when the group roles do not exist.

    Raises:
        sqlalchemy.exc.DBAPIError: (raised by PostgreSQL) a group role is missing.
    """
    op.execute(
        "do $$ begin "
        f"if not exists (select 1 from pg_roles where rolname = '{TENANT_GROUP}') "
        f"or not exists (select 1 from pg_roles where rolname = '{PLATFORM_GROUP}') then "
        f"raise exception 'create the NOLOGIN roles {TENANT_GROUP} and {PLATFORM_GROUP} first (README, Deploying)'; "
        "end if; end $$"
    )


def _has_column(table: str, column: str) -> bool:
    """True when ``table`` (schema public) has ``column``."""
    return bool(op.get_bind().exec_driver_sql(
        "select count(*) from information_schema.columns where table_schema = 'public' "
        f"and table_name = '{table}' and column_name = '{column}'").scalar())


def tenant_policies(table: str) -> None:
    """(Re)create the policies of one table with a ``tenant_id`` and force RLS on it."""
    require_groups()
    op.execute(f"alter table {table} enable row level security")
    op.execute(f"alter table {table} force row level security")
    for name in ("tenant_isolation", "tenant_rows", "platform_rows", "platform_person_rows", "platform_host_lookup"):
        op.execute(f"drop policy if exists {name} on {table}")
    mine = own_tenant("tenant_id")
    person = table in PERSON_TABLES and _has_column(table, "user_id")
    if person:  # the logged-in person's platform-wide rows (no business) show on every host
        mine = f"({mine} or (tenant_id is null and {PERSON_MINE}))"
    op.execute(f"create policy tenant_rows on {table} using ({mine}) with check ({mine})")
    flag = "current_setting('app.platform', true) = 'on'"
    op.execute(f"create policy platform_rows on {table} to {PLATFORM_GROUP} using ({flag}) with check ({flag})")
    if person:
        op.execute(f"create policy platform_person_rows on {table} to {PLATFORM_GROUP} using (true) with check (true)")
    if table in HOST_TABLES:
        op.execute(f"create policy platform_host_lookup on {table} to {PLATFORM_GROUP} using (true) with check (true)")


def enable_rls(tables: list[str]) -> None:
    """Force RLS with the tenant and platform policies on ``tables``, then :func:`apply_grants`."""
    for table in tables:
        tenant_policies(table)
    apply_grants()


def apply_grants() -> None:
    """Grant the group roles what they may do on every table and sequence, idempotently.

    Both groups: DML on every table, sequences; then

    * ``alembic_version``: nothing for the tenant role, SELECT for the platform role;
    * ``ledger_entry``, ``audit_entry`` and ``credit_entry``: no UPDATE/DELETE/TRUNCATE for anyone
      (append-only);
    * ``user_account``: the tenant role may SELECT every column but ``password_hash`` (it may
      still set it: INSERT and UPDATE);
    * ``stripe_webhook_event``, and INSERT/DELETE on ``tenant``: platform role only;
    * :data:`PLATFORM_READ_TABLES`: SELECT only for the tenant role.
    """
    require_groups()
    t, p, legacy = TENANT_GROUP, PLATFORM_GROUP, LEGACY_APP_ROLE
    op.execute(
        "do $$ declare cols text; begin "
        f"grant select, insert, update, delete on all tables in schema public to {t}, {p}; "
        f"grant usage, select on all sequences in schema public to {t}, {p}; "
        "if to_regclass('public.alembic_version') is not null then "
        f"revoke all on alembic_version from {t}, {p}; grant select on alembic_version to {p}; end if; "
        "if to_regclass('public.ledger_entry') is not null then "
        f"revoke update, delete, truncate on ledger_entry from {t}, {p}; end if; "
        "if to_regclass('public.audit_entry') is not null then "
        f"revoke update, delete, truncate on audit_entry from {t}, {p}; end if; "
        "if to_regclass('public.credit_entry') is not null then "
        f"revoke update, delete, truncate on credit_entry from {t}, {p}; end if; "
        + "".join(f"if to_regclass('public.{name}') is not null then revoke all on {name} from {t}; end if; "
                  for name in PLATFORM_ONLY_TABLES) +
        "if to_regclass('public.audit_chain_head') is not null then "
        f"revoke all on audit_chain_head from {p}; end if; "
        f"revoke insert, delete on tenant from {t}; "
        + "".join(f"if to_regclass('public.{name}') is not null then "
                  f"revoke insert, update, delete, truncate on {name} from {t}; end if; "
                  for name in PLATFORM_READ_TABLES) +
        "if to_regclass('public.rls_key') is not null then "
        f"revoke all on rls_key from {t}, {p}; grant select on rls_key to {p}; end if; "
        "select string_agg(quote_ident(attname), ', ' order by attnum) into cols from pg_attribute "
        "where attrelid = 'public.user_account'::regclass and attnum > 0 and not attisdropped "
        "and attname <> 'password_hash'; "
        f"revoke select on user_account from {t}; "
        f"execute format('grant select (%s) on user_account to {t}', cols); "
        f"if exists (select 1 from pg_roles where rolname = '{legacy}') then "
        f"revoke all on all tables in schema public from {legacy}; "
        f"revoke all on all sequences in schema public from {legacy}; end if; "
        "end $$"
    )


def grant_app_role() -> None:
    """Older migrations' name for :func:`apply_grants`."""
    apply_grants()
