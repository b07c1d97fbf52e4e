"""Tenant (a business), its custom domains, its memberships (roles of people in it) and the
invitations that turn a staff member into a person with a login."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped
from app.tenants.phones import national_format
from app.tenants.zones import country_names
from app.timeutil import utcnow


class Role(enum.StrEnum):
    """Roles a person holds in a tenant. Platform admins are a flag on the user."""

    OWNER = "owner"
    MANAGER = "manager"
    STAFF = "staff"
    CUSTOMER = "customer"


STAFF_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.STAFF})
MANAGER_ROLES = frozenset({Role.OWNER, Role.MANAGER})


class Tenant(db.Model):
    """A business on Plaza: its subdomain ``slug``, time zone, currency, booking rules and public
    profile (phone in E.164, public email, postal address with an ISO 3166-1 alpha-2 ``country``,
    plain-text description, and the storage key of its logo).

    Durations are whole minutes (lead time, slot interval) or hours/days as named.
    This table is platform-level (not tenant-scoped): it is what a host resolves to.
    """

    __tablename__ = "tenant"
    __table_args__ = (
        sa.CheckConstraint("country = '' or country ~ '^[A-Z]{2}$'", name="tenant_country_code"),
        sa.CheckConstraint("char_length(description) <= 1000", name="tenant_description_length"),
        sa.CheckConstraint("(latitude is null) = (longitude is null)", name="tenant_point_whole"),
        sa.CheckConstraint("latitude between -90 and 90 and longitude between -180 and 180", name="tenant_point_range"),
        sa.CheckConstraint("service_radius_km is null or service_radius_km between 1 and 200",
                           name="tenant_service_radius"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(sa.String(40), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(120), nullable=False)
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    category: Mapped[str] = mapped_column(sa.String(60), nullable=False, default="")
    lead_time_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=60)
    horizon_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=60)
    slot_interval_minutes: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=15)
    requires_confirmation: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    cancellation_cutoff_hours: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=24)
    #: Bookings the public (page and API, not staff) may make here per hour, all guests together.
    public_bookings_per_hour: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=60,
                                                          server_default="60")
    suspended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    #: Public phone number in E.164 (``+4533121212``), or empty.
    phone: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="", server_default="")
    #: Public contact email (not the owner's login), or empty.
    public_email: Mapped[str] = mapped_column(sa.String(254), nullable=False, default="", server_default="")
    address_line: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="", server_default="")
    postcode: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="", server_default="")
    city: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="", server_default="")
    #: ISO 3166-1 alpha-2 (``DK``); phone numbers are read in this country. Empty when unknown.
    country: Mapped[str] = mapped_column(sa.String(2), nullable=False, default="", server_default="")
    #: Plain text shown on the booking page (at most 1,000 characters).
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="", server_default="")
    #: Storage key (:mod:`app.storage`) of the logo, a content-hashed PNG or WebP; ``None`` for none.
    logo_key: Mapped[str | None] = mapped_column(sa.String(200))
    #: The marketplace category (:class:`MarketplaceCategory` slug), ``None`` until chosen.
    category_slug: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("marketplace_category.slug", onupdate="CASCADE", ondelete="SET NULL"))
    #: Where the business is, WGS 84 degrees; both ``None`` until the address is placed on the map.
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    #: Businesses that travel to the customer: how far from their point, in km (1-200), or ``None``.
    service_radius_km: Mapped[int | None] = mapped_column(sa.Integer)
    #: … or the postcodes they serve (upper-case, no spaces), empty when none.
    service_postcodes: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.String(20)), nullable=False, default=list,
                                                         server_default="{}")
    #: The business takes job requests (issue 13): routing may offer it leads in its category.
    accepts_job_requests: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                                       server_default="false")
    #: The language the business's pages and messages fall back to (Babel identifier, ``da``, ``en``).
    default_locale: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="en", server_default="en")
    #: The business's texts in other languages (issue 14): ``{"da": {"description": "..."}}``.
    translations: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    #: Languages spoken, BCP 47 primary tags (``da``, ``en``).
    languages: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.String(12)), nullable=False, default=list,
                                                 server_default="{}")
    #: Amenity codes (``wifi``, ``wheelchair``, ``parking``, ``card``, …).
    amenities: Mapped[list[str]] = mapped_column(sa.ARRAY(sa.String(40)), nullable=False, default=list,
                                                 server_default="{}")
    #: Social profile URLs by network (``{"instagram": "https://…"}``).
    social_links: Mapped[dict[str, str]] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    #: Storage key of the cover photo, ``None`` for none.
    cover_key: Mapped[str | None] = mapped_column(sa.String(200))
    #: When the public profile last changed (settings or gallery), UTC; ``None`` until then (sitemap lastmod).
    profile_updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def address(self) -> str:
        """The postal address on one line (``Nørregade 12, 1165 København, Denmark``), or empty."""
        town = " ".join(p for p in (self.postcode, self.city) if p)
        country = country_names().get(self.country, "") if (self.address_line or town) else ""
        return ", ".join(p for p in (self.address_line, town, country) if p)

    @property
    def location(self) -> str:
        """Where bookings take place, for emails' "Where:" and ``.ics`` LOCATION: the name, then
        the address when there is one (``Bella Hair Studio, Nørregade 12, 1165 København, Denmark``)."""
        return ", ".join(p for p in (self.name, self.address) if p)

    @property
    def phone_display(self) -> str:
        """The phone number as people in the business's country write it (``33 12 12 12``), or
        in international format for another country; empty when there is none."""
        return national_format(self.phone, self.country) if self.phone else ""


class MarketplaceCategory(db.Model):
    """A category of the platform's taxonomy (``hair``, ``barber``, ``plumbing``, …), edited by
    platform admins; a business chooses one. Platform-level: tenant hosts may read, never write."""

    __tablename__ = "marketplace_category"

    slug: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    #: Order in lists (ascending).
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    #: Retired categories stay for the businesses in them but are no longer offered.
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default="true")


class TenantDomain(db.Model):
    """A custom domain (``book.bellasalon.dk``) that resolves to a tenant; globally unique."""

    __tablename__ = "tenant_domain"

    domain: Mapped[str] = mapped_column(sa.String(253), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                                                 nullable=False, index=True)


class Membership(TenantScoped, db.Model):
    """A person's role in a tenant; one person may be staff of one and customer of another."""

    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "user_id", "role"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                                               nullable=False, index=True)
    role: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    staff_member_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class InvitationStatus(enum.StrEnum):
    """Where a staff invitation stands. "Expired" is not stored: a pending invitation whose
    ``expires_at`` has passed is expired."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


#: Roles a staff invitation may grant (owners are made by business signup only).
INVITABLE_ROLES = frozenset({Role.STAFF, Role.MANAGER})


class StaffInvitation(TenantScoped, db.Model):
    """An invitation, sent to ``email``, to log in to the business as ``role`` (``staff`` or
    ``manager``) and be linked to the staff member ``staff_member_id``.

    The link carries a signed token naming the invitation and its random ``nonce``; at most
    one pending invitation per email and tenant (a re-invite revokes the previous one).
    Valid until ``expires_at`` (7 days); used once (``status`` becomes ``accepted``).
    """

    __tablename__ = "staff_invitation"
    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "staff_member_id"], ["staff_member.tenant_id", "staff_member.id"],
                                ondelete="CASCADE"),
        sa.CheckConstraint("role in ('staff', 'manager')", name="staff_invitation_role"),
        sa.CheckConstraint("status in ('pending', 'accepted', 'revoked')", name="staff_invitation_status"),
        sa.Index("staff_invitation_one_pending", "tenant_id", "email", unique=True,
                 postgresql_where=sa.text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    staff_member_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, index=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    role: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    nonce: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default=InvitationStatus.PENDING.value)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id",
                                                                                  ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)
    accepted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid, sa.ForeignKey("user_account.id",
                                                                                   ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    def is_expired(self, now: datetime) -> bool:
        """True when still pending but past ``expires_at``."""
        return self.status == InvitationStatus.PENDING.value and self.expires_at <= now
