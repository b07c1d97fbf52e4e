"""Who a broadcast reaches: the audience's filters and the accounts they select.

Two kinds:

* ``businesses``: the owners of active businesses, filtered by plan (``free``/``pro``/``premium``,
  as :func:`app.billing.plans.plan_from_subscription` derives it), country (ISO 3166 alpha-2) and
  category (a taxonomy slug), each optional.
* ``customers``: the accounts of the customers of businesses in a city and/or of one business,
  and ONLY those with a standing platform-wide marketing consent (the platform is the sender:
  a consent given to one business does not cover it). At least one of the two filters is needed.

Suspended accounts and erased customer records are left out. Reads across businesses, so it runs
in :func:`app.tenants.context.platform_scope`.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.billing.models import BillingSubscription
from app.billing.plans import PLANS, plan_from_subscription
from app.booking.models import Customer
from app.errors import InputError
from app.extensions import db
from app.identity.models import User
from app.notifications.center_models import MarketingConsent
from app.tenants.context import platform_scope
from app.tenants.models import Membership, Role, Tenant
from app.tenants.taxonomy import category_by_slug

BUSINESSES, CUSTOMERS = "businesses", "customers"
KINDS = (BUSINESSES, CUSTOMERS)


class AudienceError(InputError, ValueError):
    """Audience filters that cannot be used; ``message`` is user-facing, ``field`` the form field."""


@dataclass(frozen=True)
class Audience:
    """The filters of a broadcast's audience (empty string: no filter). ``kind`` is
    ``"businesses"`` or ``"customers"``; ``plan``, ``country`` and ``category`` apply to
    businesses, ``city`` and ``tenant_id`` (a business's id as text) to customers."""

    kind: str
    plan: str = ""
    country: str = ""
    category: str = ""
    city: str = ""
    tenant_id: str = ""

    def to_json(self) -> dict[str, str]:
        """The filters as stored in ``broadcast.audience``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        """The audience stored as ``data`` (unknown keys ignored)."""
        fields = ("kind", "plan", "country", "category", "city", "tenant_id")
        return cls(**{k: str(data.get(k) or "") for k in fields})


def make_audience(kind: str, *, plan: str = "", country: str = "", category: str = "", city: str = "",
                  business: str = "") -> Audience:
    """Validate and normalise the filters an admin chose; ``business`` is a business's slug.

    Raises:
        AudienceError: unknown kind, plan, category or business; a country that is not two
            letters; customers with neither a city nor a business.
    """
    kind, plan, country = kind.strip(), plan.strip().lower(), country.strip().upper()
    category, city, business = category.strip().lower(), " ".join(city.split()), business.strip().lower()
    if kind not in KINDS:
        raise AudienceError(_("Choose businesses or customers."), "kind")
    if kind == BUSINESSES:
        if plan and plan not in PLANS:
            raise AudienceError(_("Choose one of the plans: %(plans)s.", plans=", ".join(PLANS)), "plan")
        if country and (len(country) != 2 or not country.isalpha()):
            raise AudienceError(_("A country is its two-letter code, e.g. DK."), "country")
        if category and category_by_slug(category) is None:
            raise AudienceError(_("There is no category “%(category)s”.", category=category), "category")
        return Audience(BUSINESSES, plan=plan, country=country, category=category)
    tenant_id = ""
    if business:
        with platform_scope("broadcast audience: find a business by its address"):
            found = db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == business))
        if found is None:
            raise AudienceError(_("There is no business “%(business)s”.", business=business), "business")
        tenant_id = str(found)
    if not city and not tenant_id:
        raise AudienceError(_("Choose a city, a business, or both: customers are never sent to all at once."), "city")
    return Audience(CUSTOMERS, city=city, tenant_id=tenant_id)


def describe(audience: Audience) -> str:
    """The audience in words in the reader's language, e.g. ``"Owners of businesses on Pro in DK"``."""
    if audience.kind == BUSINESSES:
        parts = [_("Owners of businesses")]
        if audience.plan:
            parts.append(_("on %(plan)s", plan=PLANS[audience.plan].name if audience.plan in PLANS else audience.plan))
        if audience.country:
            parts.append(_("in %(country)s", country=audience.country))
        if audience.category:
            parts.append(_("in the category “%(category)s”", category=audience.category))
        return " ".join(parts)
    parts = [_("Customers who accept marketing from Plaza")]
    if audience.city:
        parts.append(_("of businesses in %(city)s", city=audience.city))
    if audience.tenant_id:
        with platform_scope("broadcast audience: the business's name"):
            name = db.session.scalar(sa.select(Tenant.name).where(Tenant.id == uuid.UUID(audience.tenant_id)))
        name = name or _("a removed business")
        parts.append(_("and of %(name)s", name=name) if audience.city else _("of %(name)s", name=name))
    return " ".join(parts)


def _business_ids(audience: Audience) -> list[uuid.UUID]:
    query = sa.select(Tenant.id).where(Tenant.suspended_at.is_(None))
    if audience.country:
        query = query.where(Tenant.country == audience.country)
    if audience.category:
        query = query.where(Tenant.category_slug == audience.category)
    ids = list(db.session.scalars(query))
    if not audience.plan or not ids:
        return ids
    subs = {s.tenant_id: s for s in db.session.scalars(
        sa.select(BillingSubscription).where(BillingSubscription.tenant_id.in_(ids)))}
    return [tid for tid in ids if plan_from_subscription(subs.get(tid)).code == audience.plan]


def _customer_accounts(audience: Audience) -> sa.Select:
    """Accounts behind the customer records of the chosen businesses (linked, or a verified
    account with the record's email)."""
    tenants = sa.select(Tenant.id).where(Tenant.suspended_at.is_(None))
    if audience.city:
        tenants = tenants.where(sa.func.lower(Tenant.city) == audience.city.lower())
    if audience.tenant_id:
        tenants = tenants.where(Tenant.id == uuid.UUID(audience.tenant_id))
    records = sa.select(Customer.user_id, Customer.email).where(
        Customer.tenant_id.in_(tenants), Customer.erased_at.is_(None)).subquery()
    linked = sa.select(records.c.user_id).where(records.c.user_id.is_not(None))
    by_email = sa.select(User.id).join(records, sa.func.lower(records.c.email) == sa.func.lower(User.email)).where(
        User.email_verified_at.is_not(None))
    return sa.union(linked, by_email)


def recipient_ids(audience: Audience) -> list[uuid.UUID]:
    """The accounts ``audience`` reaches now, sorted by id, each once. Runs in platform scope."""
    with platform_scope("broadcast audience: who it reaches"):
        if audience.kind == BUSINESSES:
            tenant_ids = _business_ids(audience)
            if not tenant_ids:
                return []
            people = sa.select(Membership.user_id).where(Membership.tenant_id.in_(tenant_ids),
                                                         Membership.role == Role.OWNER.value)
        else:
            accounts = _customer_accounts(audience).subquery()
            consenting = sa.select(MarketingConsent.user_id).where(
                MarketingConsent.tenant_id.is_(None), MarketingConsent.withdrawn_at.is_(None))
            people = sa.select(accounts.c.user_id).where(accounts.c.user_id.in_(consenting))
        return list(db.session.scalars(
            sa.select(User.id).where(User.id.in_(people), User.suspended_at.is_(None))
            .order_by(User.id)))
