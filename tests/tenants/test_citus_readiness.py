"""Citus readiness, proven over the migrated database's catalog: every table is a tenant table
(distributed by ``tenant_id``) or listed as a reference or coordinator-local table in
``app/tenants/distribution.py``, and every key, constraint and foreign key is one Citus accepts.

Citus's own rules (``ErrorIfUnsupportedForeignConstraintExists`` and the unique-constraint check of
``create_distributed_table``): a distributed table's primary key and every unique or exclusion
constraint must include the distribution column (with ``=`` in an exclusion); a foreign key between
distributed tables must pair the distribution columns at the same position; a foreign key that
includes the distribution column may not ``SET NULL``/``SET DEFAULT`` on delete (even with a column
list) nor ``CASCADE``/``SET NULL``/``SET DEFAULT`` on update; a reference table may only refer to
reference tables; a distributed table never refers to a coordinator-local table.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.tenants.distribution import (
    DISTRIBUTION_COLUMN,
    LOCAL_TABLES,
    PLATFORM_TO_TENANT_FKS,
    REFERENCE_TABLES,
    CatalogTable,
    ForeignKey,
    catalog_tables,
    distribution_statements,
    foreign_keys,
    kind_of,
)
from app.tenants.guard import TenantScoped

pytestmark = pytest.mark.integration

T = DISTRIBUTION_COLUMN

#: Unique constraints, unique indexes (primary keys included) and exclusion constraints: the table,
#: the name, what it is, its key columns (``None`` for an expression) and, for an exclusion, the
#: operator of each column.
_UNIQUES_SQL = """
select c.relname, i.relname, case when con.contype = 'x' then 'exclusion'
                                  when x.indisprimary then 'primary key' else 'unique' end,
       array(select a.attname::text from unnest(x.indkey[0:x.indnkeyatts - 1]) with ordinality k(n, o)
             left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.n order by k.o),
       coalesce(array(select op.oprname::text from unnest(con.conexclop) with ordinality e(oid, o)
                      join pg_operator op on op.oid = e.oid order by e.o), '{}')
from pg_index x
join pg_class c on c.oid = x.indrelid
join pg_class i on i.oid = x.indexrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_constraint con on con.conindid = x.indexrelid and con.conrelid = x.indrelid
where n.nspname = 'public' and (x.indisunique or con.contype = 'x')
order by 1, 2
"""


def _owner_engine(services) -> sa.Engine:
    return sa.create_engine(services["OWNER_URL"], poolclass=sa.pool.NullPool)


@pytest.fixture(scope="module")
def owner(services):
    engine = _owner_engine(services)
    with engine.connect() as conn:
        yield conn
        conn.rollback()
    engine.dispose()


def _kinds(tables: list[CatalogTable]) -> dict[str, str | None]:
    return {t.name: kind_of(t) for t in tables}


def key_violations(conn: sa.Connection) -> list[str]:
    """What a tenant table's primary key, unique and exclusion constraints and unique indexes
    lack for Citus: one line per constraint or index without ``tenant_id`` (``=`` in an exclusion)."""
    kinds = _kinds(catalog_tables(conn))
    uniques = conn.exec_driver_sql(_UNIQUES_SQL).all()
    out = []
    for table in (name for name, kind in kinds.items() if kind == "distributed"):
        has_pk = False
        for tbl, name, what, cols, ops in uniques:
            if tbl != table:
                continue
            has_pk = has_pk or what == "primary key"
            if what == "exclusion":
                if not any(col == T and op == "=" for col, op in zip(cols, ops, strict=False)):
                    out.append(f"{table}: exclusion {name} has no {T} WITH =")
            elif T not in cols:
                out.append(f"{table}: {what} {name} ({', '.join(c or '<expr>' for c in cols)}) lacks {T}")
        if not has_pk:
            out.append(f"{table}: no primary key")
    return out


def fk_violations(conn: sa.Connection) -> list[str]:
    """The foreign keys Citus would refuse, given the classification: one line each."""
    kinds = _kinds(catalog_tables(conn))
    out = []
    for fk in foreign_keys(conn):
        src, dst = kinds.get(fk.table), kinds.get(fk.target)
        label = f"{fk.table}.{fk.name} -> {fk.target}"
        if src == "distributed":
            out += _distributed_fk_problems(fk, dst, label)
        elif dst == "distributed" and fk.name not in PLATFORM_TO_TENANT_FKS:
            out.append(f"{label}: a {src} table refers to a tenant table (Citus: reference tables refer "
                       "only to reference tables)")
        elif src == "reference" and dst != "reference":
            out.append(f"{label}: a reference table refers to a {dst} table")
    return out


def _distributed_fk_problems(fk: ForeignKey, dst: str | None, label: str) -> list[str]:
    out = []
    if dst == "local":
        out.append(f"{label}: a tenant table refers to a coordinator-local table")
    if dst == "distributed" and (T, T) not in zip(fk.columns, fk.target_columns, strict=True):
        out.append(f"{label}: ({', '.join(fk.columns)}) -> ({', '.join(fk.target_columns)}) does not pair {T}")
    if T in fk.columns:
        if fk.on_delete in ("n", "d"):
            cols = f" ({', '.join(fk.delete_set_columns)})" if fk.delete_set_columns else ""
            out.append(f"{label}: ON DELETE SET {'NULL' if fk.on_delete == 'n' else 'DEFAULT'}{cols} on a key "
                       f"with {T} (Citus refuses it even with a column list; use CASCADE or NO ACTION)")
        if fk.on_update in ("c", "n", "d"):
            out.append(f"{label}: ON UPDATE {fk.on_update} on a key with {T}")
    return out


def test_every_table_is_a_tenant_table_or_listed_as_reference_or_local(owner):
    tables = catalog_tables(owner)
    names = {t.name for t in tables}
    unclassified = sorted(t.name for t in tables if kind_of(t) is None)
    assert not unclassified, ("neither a tenant table (NOT NULL tenant_id under RLS) nor listed in "
                              f"app/tenants/distribution.py: {unclassified}")
    assert not set(REFERENCE_TABLES) & set(LOCAL_TABLES)
    stale = sorted((set(REFERENCE_TABLES) | set(LOCAL_TABLES)) - names)
    assert not stale, f"listed in app/tenants/distribution.py but not in the database: {stale}"
    # The business's own rows of the busiest tables are distributed, not replicated.
    kinds = _kinds(tables)
    for table in ("booking", "customer", "chat_message", "outbox_event", "service", "staff_member"):
        assert kinds[table] == "distributed", table
    assert kinds["tenant"] == kinds["user_account"] == "reference"


def test_tenant_tables_are_exactly_the_tenant_scoped_models(owner, app):  # app: every model imported
    tables = catalog_tables(owner)
    distributed = {t.name for t in tables if kind_of(t) == "distributed"}
    scoped = {mapper.local_table.name for mapper in db.Model.registry.mappers
              if issubclass(mapper.class_, TenantScoped)}
    assert distributed == scoped, {"in the catalog, not TenantScoped": sorted(distributed - scoped),
                                   "TenantScoped, not a tenant table in the catalog": sorted(scoped - distributed)}
    # Every table with a tenant_id under RLS that is not distributed is listed with a reason.
    shared = {t.name for t in tables if t.has_tenant_id and t.rls} - distributed
    assert shared <= set(REFERENCE_TABLES) | set(LOCAL_TABLES)
    assert {"delivery", "notification", "audit_entry", "tenant_domain"} <= shared


def test_tenant_id_is_in_every_primary_key_unique_and_exclusion_constraint(owner):
    assert key_violations(owner) == []


def test_foreign_keys_are_ones_citus_accepts(owner):
    assert fk_violations(owner) == []
    tenant_to_tenant = [fk for fk in foreign_keys(owner)
                        if fk.table != fk.target and {fk.table, fk.target} <= _distributed(owner)]
    assert len(tenant_to_tenant) > 20  # the checks above really saw the composite keys


def _distributed(conn) -> set[str]:
    return {t.name for t in catalog_tables(conn) if kind_of(t) == "distributed"}


def test_the_checks_catch_a_table_citus_would_refuse(owner):
    """A new tenant table with an id-only primary key, a global unique code and a SET NULL on a
    composite key is reported, and so is a new unlisted platform table referring to a tenant table."""
    owner.exec_driver_sql(
        "create table citus_probe (tenant_id uuid not null references tenant(id) on delete cascade, "
        "id uuid primary key, code text unique, booking_id uuid, staff_id uuid, "
        "foreign key (tenant_id, staff_id) references staff_member(tenant_id, id) on delete set null (staff_id))")
    owner.exec_driver_sql("create unique index citus_probe_booking on citus_probe (booking_id)")
    owner.exec_driver_sql("alter table citus_probe enable row level security")
    owner.exec_driver_sql("create table citus_probe_platform (id uuid primary key, "
                          "booking_tenant uuid, booking_id uuid, "
                          "foreign key (booking_tenant, booking_id) references booking(tenant_id, id))")
    try:
        keys = [line for line in key_violations(owner) if line.startswith("citus_probe")]
        fks = fk_violations(owner)
        unclassified = [t.name for t in catalog_tables(owner) if kind_of(t) is None]
    finally:
        owner.rollback()
    assert sorted(keys) == ["citus_probe: primary key citus_probe_pkey (id) lacks tenant_id",
                            "citus_probe: unique citus_probe_booking (booking_id) lacks tenant_id",
                            "citus_probe: unique citus_probe_code_key (code) lacks tenant_id"]
    assert any(line.startswith("citus_probe.citus_probe_tenant_id_staff_id_fkey -> staff_member: ON DELETE SET NULL "
                               "(staff_id)") for line in fks), fks
    assert any(line.startswith("citus_probe_platform.") and "refers to a tenant table" in line for line in fks), fks
    assert unclassified == ["citus_probe_platform"]


def test_the_plan_distributes_every_table_after_the_tables_it_refers_to(owner, app):
    tables, fks = catalog_tables(owner), foreign_keys(owner)
    plan = distribution_statements(tables, fks)
    order = {}
    for i, line in enumerate(plan):
        name = line.split("'")[1]
        assert name not in order, name
        order[name] = i
    assert set(order) == {t.name for t in tables}
    for fk in fks:
        if fk.table != fk.target:
            assert order[fk.target] < order[fk.table], (fk.table, fk.target)
    kinds = _kinds(tables)
    anchor = next(line for line in plan if line.startswith("select create_distributed_table"))
    assert anchor.endswith(f"'{T}');")
    assert f"select create_distributed_table('booking', '{T}', colocate_with => '{anchor.split(chr(39))[1]}');" in plan
    assert sum(1 for k in kinds.values() if k == "reference") == sum(1 for x in plan if "create_reference_table" in x)
    # The operator prints the same plan from the command line.
    result = app.test_cli_runner().invoke(args=["citus", "plan"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == plan
