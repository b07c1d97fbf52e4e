"""Creating tenants (business signup) and managing memberships."""

from __future__ import annotations

import re
import uuid
from typing import Protocol

import sqlalchemy as sa

from app.errors import InputError
from app.extensions import db
from app.tenants.context import require_tenant_id, tenant_scope
from app.tenants.errors import TenantNotFound
from app.tenants.models import Membership, Role, Tenant
from app.tenants.resolve import RESERVED_SLUGS
from app.tenants.taxonomy import category_by_slug
from app.tenants.zones import country_of_zone
from app.timeutil import zone


class Person(Protocol):
    """Whoever is given a role: anything with the account's ``id`` (an
    :class:`app.identity.models.User`; tenants sit below identity and do not import it)."""

    id: uuid.UUID


SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]$")


class SignupError(InputError, ValueError):
    """Invalid signup input; ``field`` names the form field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


def validate_slug(slug: str) -> str:
    """Return the subdomain if acceptable.

    Rules: 3 to 40 characters, lowercase letters, digits and hyphens, not starting or
    ending with a hyphen, no ``--`` as the 3rd and 4th characters (IDNA's reserved form,
    RFC 5891 section 4.2.3.1: ``xn--`` labels are punycode and could pass for another
    business's name, e.g. ``xn--bla-jpa`` shows as ``bèla``), not reserved, not taken.

    Raises:
        SignupError: with ``field='slug'``.
    """
    if not (3 <= len(slug) <= 40):
        raise SignupError("slug", "Use 3 to 40 characters.")
    if not SLUG_RE.match(slug):
        raise SignupError("slug", "Use lowercase letters, digits and hyphens (not at the start or end).")
    if slug[2:4] == "--":
        raise SignupError("slug", "An address cannot have “--” as its 3rd and 4th characters (like “xn--”, "
                                  "which browsers show as another alphabet's letters); pick another.")
    if slug in RESERVED_SLUGS:
        raise SignupError("slug", f"“{slug}” is reserved; pick another subdomain.")
    if db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise SignupError("slug", f"“{slug}” is already taken.")
    return slug


def create_tenant(*, name: str, slug: str, timezone: str, currency: str, owner: Person,
                  category: str = "", category_slug: str | None = None, locale_by_country: bool = False) -> Tenant:
    """Create a business with ``owner`` as its owner; flushes, does not commit. Its ``country``
    (for phone numbers and the address) is that of ``timezone`` (``Europe/London`` -> ``GB``).
    With ``locale_by_country`` (signup) a business in Denmark gets Danish as its default
    language, any other English; else English.
    ``category_slug`` (an active taxonomy category) sets ``category`` to that category's name.

    Raises:
        SignupError: invalid slug, time zone, currency or category.
    """
    validate_slug(slug)
    try:
        zone(timezone)
    except ValueError as exc:
        raise SignupError("timezone", str(exc)) from exc
    if not re.fullmatch(r"[A-Z]{3}", currency or ""):
        raise SignupError("currency", "Use a three-letter ISO 4217 code such as DKK or USD.")
    if category_slug:
        chosen = category_by_slug(category_slug)
        if chosen is None or not chosen.active:
            raise SignupError("category", "Choose one of the listed categories.")
        category = chosen.name
    country = country_of_zone(timezone) or ""
    tenant = Tenant(id=uuid.uuid4(), name=name.strip(), slug=slug, timezone=timezone, currency=currency,
                    category=category, category_slug=category_slug or None, country=country,
                    default_locale="da" if locale_by_country and country == "DK" else "en")
    db.session.add(tenant)
    db.session.flush()
    with tenant_scope(tenant.id):
        add_membership(owner, Role.OWNER)
    return tenant


def add_membership(user: Person, role: Role, staff_member_id: uuid.UUID | None = None) -> Membership:
    """Give ``user`` ``role`` in the current tenant (idempotent); flushes."""
    existing = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id,
                                                             Membership.role == role.value))
    if existing is not None:
        if staff_member_id and existing.staff_member_id != staff_member_id:
            existing.staff_member_id = staff_member_id
        return existing
    row = Membership(user_id=user.id, role=role.value, staff_member_id=staff_member_id)
    db.session.add(row)
    db.session.flush()
    return row


def tenant_in_scope() -> Tenant:
    """The :class:`Tenant` row of the business in scope.

    Raises:
        TenantScopeError: no tenant is in scope.
        TenantNotFound: the tenant's row is gone (deleted meanwhile).
    """
    tid = require_tenant_id()
    tenant = db.session.get(Tenant, tid)
    if tenant is None:
        raise TenantNotFound(f"tenant {tid} not found")
    return tenant
