"""business profile: phone, public email, address, country, description and logo on ``tenant``

Revision ID: j10d_business_profile
Revises: j10c_customers_audit
Create Date: 2026-12-05 08:30:00

Issue 10 (business settings). ``tenant`` is platform-level and already has its row-level
security (g1_tenant_row_rls: each business may read and update only its own row); the new
columns are covered by the same policies and grants. ``country`` (ISO 3166-1 alpha-2) is
backfilled from each business's time zone with tzdata's ``zone.tab`` / ``zone1970.tab``
(``Europe/Copenhagen`` -> ``DK``); zones of no country (``UTC``) leave it empty.
"""
import importlib.resources

import sqlalchemy as sa
from alembic import op

revision = "j10d_business_profile"
down_revision = "j10c_customers_audit"
branch_labels = None
depends_on = None

TEXT_COLUMNS = (("phone", 20), ("public_email", 254), ("address_line", 200), ("postcode", 20), ("city", 100),
                ("country", 2))


def _zone_countries() -> dict[str, str]:
    """zone -> first country, from the installed tzdata (zone.tab first, then zone1970.tab)."""
    found: dict[str, str] = {}
    for name in ("zone.tab", "zone1970.tab"):
        text = importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
        for line in text.splitlines():
            if line and not line.startswith("#"):
                codes, _, zone = line.split("\t")[:3]
                found.setdefault(zone, codes.split(",")[0])
    return found


def upgrade():
    for name, length in TEXT_COLUMNS:
        op.add_column("tenant", sa.Column(name, sa.String(length), nullable=False, server_default=""))
    op.add_column("tenant", sa.Column("description", sa.Text(), nullable=False, server_default=""))
    op.add_column("tenant", sa.Column("logo_key", sa.String(200), nullable=True))
    op.create_check_constraint("tenant_country_code", "tenant", "country = '' or country ~ '^[A-Z]{2}$'")
    op.create_check_constraint("tenant_description_length", "tenant", "char_length(description) <= 1000")
    backfill_countries(op.get_bind())


def backfill_countries(bind) -> int:
    """Set ``country`` of every business without one from its time zone; returns how many changed.
    The table forces RLS on its owner too: the platform flag admits every row for this transaction."""
    bind.execute(sa.text("select set_config('app.platform', 'on', true)"))
    countries = _zone_countries()
    changed = 0
    for tenant_id, zone in bind.execute(sa.text("select id, timezone from tenant where country = ''")).all():
        if zone in countries:
            bind.execute(sa.text("update tenant set country = :c where id = :i"),
                         {"c": countries[zone], "i": tenant_id})
            changed += 1
    return changed


def downgrade():
    op.drop_constraint("tenant_description_length", "tenant", type_="check")
    op.drop_constraint("tenant_country_code", "tenant", type_="check")
    op.drop_column("tenant", "logo_key")
    op.drop_column("tenant", "description")
    for name, _ in reversed(TEXT_COLUMNS):
        op.drop_column("tenant", name)
