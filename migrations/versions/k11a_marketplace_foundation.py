"""marketplace foundation: the category taxonomy and a business's place, area, languages, amenities,
social links and cover photo on ``tenant``

Revision ID: k11a_marketplace_foundation
Revises: j10d_business_profile
Create Date: 2026-12-05 11:20:00

Issue 11. ``marketplace_category`` is platform-level (no ``tenant_id``): tenant hosts may read it
and never write it (``apply_grants``: platform read-only tables). The twelve categories of the
issue are seeded; businesses whose free-text category maps to one get it as ``category_slug``.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.rls import apply_grants

revision = "k11a_marketplace_foundation"
down_revision = "j10d_business_profile"
branch_labels = None
depends_on = None

#: (slug, name) in display order.
CATEGORIES = (
    ("hair", "Hair salon"), ("barber", "Barber"), ("nails", "Nails"), ("beauty", "Beauty"),
    ("massage", "Massage"), ("cleaning", "Cleaning"), ("handyman", "Handyman"), ("plumbing", "Plumbing"),
    ("electrician", "Electrician"), ("consulting", "Consulting"), ("tutoring", "Tutoring"), ("pet-care", "Pet care"),
)
#: The signup's old free-text categories -> the taxonomy.
OLD_LABELS = {
    "Hair & beauty": "hair", "Health & wellness": "massage", "Home services": "handyman", "Cleaning": "cleaning",
    "Pets": "pet-care", "Consulting": "consulting", "Lessons & tutoring": "tutoring",
}


def upgrade():
    table = op.create_table(
        "marketplace_category",
        sa.Column("slug", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="true"),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9-]*$'", name="marketplace_category_slug"),
    )
    op.bulk_insert(table, [{"slug": s, "name": n, "position": i} for i, (s, n) in enumerate(CATEGORIES)])
    op.add_column("tenant", sa.Column("category_slug", sa.String(40), sa.ForeignKey(
        "marketplace_category.slug", onupdate="CASCADE", ondelete="SET NULL", name="tenant_category_slug_fkey")))
    op.add_column("tenant", sa.Column("latitude", sa.Float()))
    op.add_column("tenant", sa.Column("longitude", sa.Float()))
    op.add_column("tenant", sa.Column("service_radius_km", sa.Integer()))
    for name, length in (("service_postcodes", 20), ("languages", 12), ("amenities", 40)):
        op.add_column("tenant", sa.Column(name, postgresql.ARRAY(sa.String(length)), nullable=False,
                                          server_default="{}"))
    op.add_column("tenant", sa.Column("social_links", postgresql.JSONB(), nullable=False, server_default="{}"))
    op.add_column("tenant", sa.Column("cover_key", sa.String(200)))
    op.create_check_constraint("tenant_point_whole", "tenant", "(latitude is null) = (longitude is null)")
    op.create_check_constraint("tenant_point_range", "tenant",
                               "latitude between -90 and 90 and longitude between -180 and 180")
    op.create_check_constraint("tenant_service_radius", "tenant",
                               "service_radius_km is null or service_radius_km between 1 and 200")
    bind = op.get_bind()
    bind.execute(sa.text("select set_config('app.platform', 'on', true)"))
    for label, slug in OLD_LABELS.items():
        bind.execute(sa.text("update tenant set category_slug = :s where category = :l"), {"s": slug, "l": label})
    apply_grants()


def downgrade():
    for name in ("tenant_service_radius", "tenant_point_range", "tenant_point_whole"):
        op.drop_constraint(name, "tenant", type_="check")
    for name in ("cover_key", "social_links", "amenities", "languages", "service_postcodes", "service_radius_km",
                 "longitude", "latitude", "category_slug"):
        op.drop_column("tenant", name)
    op.drop_table("marketplace_category")
