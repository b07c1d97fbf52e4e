"""the audit log's hash chain and actor email; platform admins' second factor

Revision ID: l12p1_audit_chain_totp
Revises: k11g1_marketplace_listing
Create Date: 2026-12-05 12:45:00

Issue 12 (part P).

* ``audit_entry`` gains ``actor_email`` (a snapshot of the actor's address), ``seq`` (the chain's
  order), ``prev_hash`` and ``row_hash``: ``row_hash`` is the SHA-256 (hex) of the row's canonical
  content (:sql:`audit_entry_digest`: a JSON array of every column, ``at`` in UTC to the
  microsecond, ``before``/``after`` as canonical JSONB text) including ``prev_hash``, the
  previous row's ``row_hash`` (``''`` for the first row).
* A ``BEFORE INSERT`` trigger (``audit_entry_chain``, SECURITY DEFINER, so it works for the tenant
  role too, which cannot see other businesses' rows) takes a transaction-level advisory lock,
  reads and advances the one-row ``audit_chain_head`` (seq, hash; started at ``(0, '')`` when
  missing), and fills ``seq``,
  ``prev_hash``, ``row_hash`` (and ``actor_email`` from ``user_account`` when not given). The
  lock is held to the commit, so the chain has one order; a rolled-back insert leaves a gap in
  ``seq`` but no hole in the chain (the head rolls back with it).
* The existing rows are chained in ``(at, id)`` order.
* ``admin_totp`` (one per platform admin: base32 secret, confirmed when enrolment succeeded, the
  last accepted time step for replay protection) and ``admin_recovery_code`` (argon2 hashes, each
  used once): platform tables the tenant role may not touch (:data:`migrations.rls.PLATFORM_ONLY_TABLES`);
  ``audit_chain_head`` is the owner's alone.
"""
import sqlalchemy as sa
from alembic import op

from migrations.rls import apply_grants

revision = "l12p1_audit_chain_totp"
down_revision = "k11g1_marketplace_listing"
branch_labels = None
depends_on = None

DIGEST = """
create or replace function audit_entry_digest(e audit_entry) returns text
language sql immutable set search_path = public as $$
  select encode(sha256(convert_to(jsonb_build_array(
    e.seq, e.id::text, e.tenant_id::text, e.actor_user_id::text, e.actor_email, e.action, e.object_type,
    e.object_id, e.reason, e.before, e.after, e.ip, e.user_agent,
    to_char(e.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), coalesce(e.prev_hash, '')
  )::text, 'UTF8')), 'hex')
$$
"""

CHAIN = """
create or replace function audit_entry_chain() returns trigger
language plpgsql security definer set search_path = public as $$
declare
  head_seq bigint;
  head_hash text;
begin
  perform pg_advisory_xact_lock(hashtext('plaza.audit_chain'));
  if new.actor_email is null and new.actor_user_id is not null then
    select email into new.actor_email from user_account where id = new.actor_user_id;
  end if;
  insert into audit_chain_head (one, seq, hash) values (true, 0, '') on conflict do nothing;
  select seq, hash into head_seq, head_hash from audit_chain_head for update;
  new.seq := head_seq + 1;
  new.prev_hash := head_hash;
  new.row_hash := audit_entry_digest(new);
  update audit_chain_head set seq = new.seq, hash = new.row_hash;
  return new;
end $$
"""

BACKFILL = """
do $$
declare
  r record;
  n bigint := 0;
  prev text := '';
  h text;
begin
  perform set_config('app.platform', 'on', true);
  update audit_entry a set actor_email = u.email from user_account u where u.id = a.actor_user_id;
  for r in select id from audit_entry order by at, id loop
    n := n + 1;
    update audit_entry set seq = n, prev_hash = prev where id = r.id;
    select audit_entry_digest(a) into h from audit_entry a where a.id = r.id;
    update audit_entry set row_hash = h where id = r.id;
    prev := h;
  end loop;
  insert into audit_chain_head (one, seq, hash) values (true, n, prev);
  perform set_config('app.platform', '', true);
end $$
"""


def upgrade():
    op.add_column("audit_entry", sa.Column("actor_email", sa.String(254)))
    op.add_column("audit_entry", sa.Column("seq", sa.BigInteger()))
    op.add_column("audit_entry", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_entry", sa.Column("row_hash", sa.String(64)))
    op.create_table(
        "audit_chain_head",
        sa.Column("one", sa.Boolean(), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.CheckConstraint("one", name="audit_chain_head_one_row"),
    )
    op.execute(DIGEST)
    op.execute(BACKFILL)
    op.alter_column("audit_entry", "seq", nullable=False)
    op.alter_column("audit_entry", "prev_hash", nullable=False)
    op.alter_column("audit_entry", "row_hash", nullable=False)
    op.create_index("audit_entry_seq", "audit_entry", ["seq"], unique=True)
    op.create_index("audit_entry_actor", "audit_entry", ["actor_user_id", "at"])
    op.create_index("audit_entry_at", "audit_entry", ["at"])
    op.execute(CHAIN)
    op.execute("create trigger audit_entry_chain before insert on audit_entry "
               "for each row execute function audit_entry_chain()")
    op.create_table(
        "admin_totp",
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("last_step", sa.BigInteger()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "admin_recovery_code",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("code_hash", sa.String(255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    apply_grants()


def downgrade():
    op.drop_table("admin_recovery_code")
    op.drop_table("admin_totp")
    op.execute("drop trigger if exists audit_entry_chain on audit_entry")
    op.execute("drop function if exists audit_entry_chain()")
    op.execute("drop function if exists audit_entry_digest(audit_entry)")
    op.drop_table("audit_chain_head")
    op.drop_index("audit_entry_at", table_name="audit_entry")
    op.drop_index("audit_entry_actor", table_name="audit_entry")
    op.drop_index("audit_entry_seq", table_name="audit_entry")
    for column in ("row_hash", "prev_hash", "seq", "actor_email"):
        op.drop_column("audit_entry", column)
    apply_grants()
