"""How Plaza's tables would be spread over a Citus cluster, and the statements that do it.

Every table is one of three kinds, and a new table must be classified (the Citus readiness test,
``tests/tenants/test_citus_readiness.py``, fails on a table that is none of them):

* **tenant tables**: the ``TenantScoped`` models, found in the catalog as the tables with a
  ``NOT NULL tenant_id`` that row-level security protects. Distributed by ``tenant_id``
  (``create_distributed_table``), all colocated, so a tenant's rows of every table live in the
  same shard group and a request on a tenant host is a single-node transaction. The test holds
  them to what Citus requires: ``tenant_id`` in the primary key, in every unique and exclusion
  constraint and unique index, and on both sides (same position) of every foreign key to another
  tenant table; no ``SET NULL``/``SET DEFAULT`` delete action on a foreign key that includes it.
* :data:`REFERENCE_TABLES`: platform tables that tenant tables refer to or join with, small or
  rarely written. Replicated to every node (``create_reference_table``); they may refer only to
  each other.
* :data:`LOCAL_TABLES`: platform tables nothing distributed refers to and that grow per person
  or per event rather than per business (notifications and their deliveries, the audit chain,
  the Stripe event ledger). They stay on the coordinator, added to Citus's metadata
  (``citus_add_local_table_to_metadata``) so they can keep their foreign keys to reference tables.

The classification reads the live catalog (:func:`catalog_tables`), not the models, so what is
checked is what the migrations built.
"""

from __future__ import annotations

from dataclasses import dataclass

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db

#: The distribution column of every tenant table.
DISTRIBUTION_COLUMN = "tenant_id"

#: Platform tables replicated to every node, each with why it is one.
REFERENCE_TABLES: dict[str, str] = {
    "tenant": "every tenant table refers to it (tenant_id -> tenant.id); hosts resolve by slug before a "
              "tenant is in scope; one row per business",
    "user_account": "memberships, staff, customers, chat and posts refer to people; email is unique "
                    "across the platform",
    "tenant_domain": "a custom domain maps to one business across the platform (primary key domain), "
                     "looked up before any tenant is in scope",
    "rls_key": "plaza_proven_tenant_id() reads it inside every tenant policy, on every node",
    "sanction": "suspensions checked when a host or a person is resolved",
    "platform_setting": "operator settings read by every process",
    "marketplace_category": "the taxonomy tenant.category_slug refers to",
    "marketplace_word": "the search vocabulary",
    "marketplace_listing": "the marketplace read model: one row per business, read across businesses "
                           "by search (a read replica serves it first, docs/capacity.md)",
    "listed_post": "the apex feed's read model of posts, read across businesses by the feed",
    "job_request": "leads (a tenant table) refer to the customer's request",
    "job_question": "the questions of a category, read when a request is made",
    "job_complexity_tier": "the price tiers of a category",
    "job_routing_candidate": "the businesses a request was routed to, read across businesses",
    "dispatch_request": "dispatch offers (a tenant table) refer to the on-demand request",
}

#: Platform tables kept on the coordinator as Citus local tables, each with why it is one.
LOCAL_TABLES: dict[str, str] = {
    "alembic_version": "the migration head: the coordinator's own bookkeeping",
    "audit_entry": "one hash chain across the platform (a global seq, audit_chain_head), tenant_id "
                   "null for platform actions",
    "audit_chain_head": "the head of the audit chain",
    "notification": "a person's notification centre, across businesses (tenant_id null for "
                    "platform-wide ones)",
    "notification_source": "which notification a source event already made, per person",
    "notification_preference": "a person's channels, across businesses",
    "delivery": "one row per message sent (mail, push, SMS), per person, tenant_id null for "
                "platform mail",
    "marketing_consent": "a person's consent, per business or for Plaza (tenant_id null)",
    "push_subscription": "a person's browsers",
    "customer_favourite": "a person's saved businesses",
    "recently_viewed": "a person's recently viewed businesses",
    "broadcast": "the platform's announcements",
    "broadcast_recipient": "one row per person an announcement reached",
    "stripe_webhook_event": "the ledger of Stripe events received, written once per event",
    "admin_totp": "platform admins' second factor",
    "admin_recovery_code": "platform admins' recovery codes",
    "metrics_city_day": "the console's platform-wide rollups",
    "metrics_platform_day": "the console's platform-wide rollups",
}

#: Foreign keys from a reference or local table into a tenant table, each with why it is allowed
#: (Citus refuses them: a reference table can only refer to reference tables). None today.
PLATFORM_TO_TENANT_FKS: dict[str, str] = {}


@dataclass(frozen=True)
class ForeignKey:
    """One foreign key: ``name`` on ``table`` (``columns``) referring to ``target`` (``target_columns``);
    ``on_delete``/``on_update`` are pg_constraint's action letters (``a`` no action, ``r`` restrict,
    ``c`` cascade, ``n`` set null, ``d`` set default); ``delete_set_columns`` the column list of
    ``SET NULL (…)`` (PostgreSQL 15+), empty when the action sets every referencing column."""

    name: str
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]
    on_delete: str
    on_update: str
    delete_set_columns: tuple[str, ...]


@dataclass(frozen=True)
class CatalogTable:
    """A table of the ``public`` schema as the catalog shows it: ``name``, whether it has a
    ``tenant_id`` column (``has_tenant_id``) and whether that column is ``NOT NULL``
    (``tenant_id_not_null``), whether row-level security is enabled (``rls``)."""

    name: str
    has_tenant_id: bool
    tenant_id_not_null: bool
    rls: bool

    @property
    def is_tenant_table(self) -> bool:
        """True for a table distributed by ``tenant_id``: a ``NOT NULL tenant_id`` under RLS."""
        return self.has_tenant_id and self.tenant_id_not_null and self.rls


_TABLES_SQL = """
select c.relname, a.attname is not null, coalesce(a.attnotnull, false), c.relrowsecurity
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
order by c.relname
"""

_FKS_SQL = """
select con.conname, con.conrelid::regclass::text, con.confrelid::regclass::text,
       array(select a.attname::text from unnest(con.conkey) with ordinality k(n, i)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i),
       array(select a.attname::text from unnest(con.confkey) with ordinality k(n, i)
             join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i),
       con.confdeltype::text, con.confupdtype::text,
       array(select a.attname::text from unnest(coalesce(con.confdelsetcols, '{}')) with ordinality k(n, i)
             join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i)
from pg_constraint con
where con.contype = 'f' and con.connamespace = 'public'::regnamespace
order by 2, 1
"""


def catalog_tables(conn: sa.Connection) -> list[CatalogTable]:
    """Every ordinary or partitioned table of the ``public`` schema (partitions excluded), by name."""
    return [CatalogTable(*row) for row in conn.exec_driver_sql(_TABLES_SQL)]


def foreign_keys(conn: sa.Connection) -> list[ForeignKey]:
    """Every foreign key of the ``public`` schema, by table and name."""
    return [ForeignKey(name, table, tuple(cols), target, tuple(tcols), dele, upd, tuple(setcols))
            for name, table, target, cols, tcols, dele, upd, setcols in conn.exec_driver_sql(_FKS_SQL)]


def kind_of(table: CatalogTable) -> str | None:
    """``"distributed"``, ``"reference"`` or ``"local"`` for ``table``; ``None`` when it is not a
    tenant table and not listed in :data:`REFERENCE_TABLES` or :data:`LOCAL_TABLES`."""
    if table.name in REFERENCE_TABLES:
        return "reference"
    if table.name in LOCAL_TABLES:
        return "local"
    if table.is_tenant_table:
        return "distributed"
    return None


def distribution_statements(tables: list[CatalogTable], fks: list[ForeignKey]) -> list[str]:
    """The SQL that spreads the schema over a Citus cluster, in an order Citus accepts: every table
    after the tables it refers to (reference tables, then local ones, then tenant tables colocated
    with the first). Run on the coordinator, as the owner, after ``CREATE EXTENSION citus`` and
    ``citus_set_coordinator_host``, before the app connects.

    Raises:
        ValueError: a table is not classified (:func:`kind_of` is ``None``).
    """
    kinds = {t.name: kind_of(t) for t in tables}
    missing = sorted(name for name, kind in kinds.items() if kind is None)
    if missing:
        raise ValueError("classify these tables in app/tenants/distribution.py: " + ", ".join(missing))
    needs = {name: {fk.target for fk in fks if fk.table == name and fk.target != name} for name in kinds}
    rank = {"reference": 0, "local": 1, "distributed": 2}
    done: list[str] = []
    pending = sorted(kinds, key=lambda name: (rank[kinds[name] or ""], name))
    while pending:
        ready = next((name for name in pending if needs[name] <= set(done)), pending[0])
        pending.remove(ready)
        done.append(ready)
    anchor = next((name for name in done if kinds[name] == "distributed"), None)
    out = []
    for name in done:
        if kinds[name] == "reference":
            out.append(f"select create_reference_table('{name}');")
        elif kinds[name] == "local":
            out.append(f"select citus_add_local_table_to_metadata('{name}');")
        elif name == anchor:
            out.append(f"select create_distributed_table('{name}', '{DISTRIBUTION_COLUMN}');")
        else:
            out.append(f"select create_distributed_table('{name}', '{DISTRIBUTION_COLUMN}', "
                       f"colocate_with => '{anchor}');")
    return out


def register_distribution_cli(app: Flask) -> None:
    """Add ``flask citus plan``: print the statements of :func:`distribution_statements` for the
    migrated database (reads the catalog only; changes nothing)."""
    group = AppGroup("citus", help="Distributing the schema by tenant_id over a Citus cluster.")

    @group.command("plan")
    def plan_command() -> None:
        """Print, one per line, the Citus statements that distribute this database's tables."""
        with db.engine.connect() as conn:
            tables, fks = catalog_tables(conn), foreign_keys(conn)
            conn.rollback()
        try:
            lines = distribution_statements(tables, fks)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo("\n".join(lines))

    app.cli.add_command(group)
