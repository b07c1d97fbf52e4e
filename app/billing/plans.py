"""The plans a business can be on, defined in configuration, and which one applies now.

Each plan has its limits (staff seats, SMS per month, marketplace tier, the application fee
Plaza takes on customer payments in basis points) and, for paid plans, the Stripe price id
read from its own environment variable (``STRIPE_PRICE_PRO``, ``STRIPE_PRICE_PREMIUM``) and an
optional trial length (``BILLING_TRIAL_DAYS_PRO``, ``BILLING_TRIAL_DAYS_PREMIUM``).

:func:`current_plan` derives the plan from the tenant's ``billing_subscription`` row: Free
without a row, without ``STRIPE_SECRET_KEY``, when the subscription is not live, or when it
has been past due longer than the grace period (``BILLING_GRACE_DAYS``, default 7).
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.billing.models import BillingSubscription
from app.config import config_str as setting  # public: billing modules read their settings through it
from app.extensions import db
from app.platform_settings import plan_overrides
from app.tenants.context import require_tenant_id, tenant_scope
from app.timeutil import utcnow

DEFAULT_GRACE_DAYS = 7
#: Subscription statuses in which the paid plan applies (past_due only within the grace period).
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})



def billing_enabled() -> bool:
    """True when ``STRIPE_SECRET_KEY`` is set; otherwise every business is on Free."""
    return bool(setting("STRIPE_SECRET_KEY"))


def grace_period() -> timedelta:
    """How long a past-due subscription keeps its paid features (``BILLING_GRACE_DAYS``, default 7 days)."""
    return timedelta(days=int(setting("BILLING_GRACE_DAYS", str(DEFAULT_GRACE_DAYS))))


@dataclass(frozen=True)
class Plan:
    """A plan and its limits.

    ``staff_seats``: active staff members allowed; ``sms_per_month``: SMS reminders per month;
    ``marketplace_tier``: ``basic``/``featured``/``top`` placement; ``application_fee_bps``: Plaza's
    fee on customer payments in basis points (100 = 1 %); ``price_env``: the environment variable
    holding the Stripe price id (``None`` for Free); ``monthly_amount``/``currency``: the list
    price shown on the billing page, minor units; ``trial_days``: default trial length.
    """

    code: str
    name: str
    staff_seats: int
    sms_per_month: int
    marketplace_tier: str
    application_fee_bps: int
    monthly_amount: int = 0
    currency: str = "USD"
    price_env: str | None = None
    trial_env: str | None = None
    trial_days_default: int = 0

    @property
    def price_id(self) -> str | None:
        """The Stripe price id from the plan's environment variable, or ``None`` (Free, or unset)."""
        return setting(self.price_env) or None if self.price_env else None

    @property
    def trial_days(self) -> int:
        """Trial length in days for a first subscription to this plan (0: no trial)."""
        if not self.trial_env:
            return 0
        return int(setting(self.trial_env, str(self.trial_days_default)))

    @property
    def marketplace_text(self) -> str:
        """What the plan gives in marketplace search, exactly as ranking does it (app.marketplace.ranking)."""
        if self.marketplace_tier == "basic":
            return _("Listed in marketplace search, ranked like every business by relevance alone "
                     "(text match, distance, reviews, free time)")
        return _("Listed in marketplace search, ranked like every business by relevance alone; also takes turns "
                 "in the at most two \u201cFeatured\u201d places on a results page, only in searches your "
                 "business matches (query, radius, filters), with every paying plan that has a match represented")

    @property
    def label(self) -> str:
        """The plan's name in the reader's language (``name`` stays the English one Stripe knows)."""
        return str(PLAN_LABELS.get(self.code, self.name))

    @property
    def is_paid(self) -> bool:
        """True for plans sold through Stripe."""
        return self.price_env is not None


#: Plan code -> its name for people, translated.
PLAN_LABELS = {"free": _l("Free"), "pro": _l("Pro"), "premium": _l("Premium")}

FREE = Plan("free", "Free", staff_seats=2, sms_per_month=0, marketplace_tier="basic", application_fee_bps=300)
PRO = Plan("pro", "Pro", staff_seats=10, sms_per_month=500, marketplace_tier="featured", application_fee_bps=150,
           monthly_amount=2900, price_env="STRIPE_PRICE_PRO", trial_env="BILLING_TRIAL_DAYS_PRO")
PREMIUM = Plan("premium", "Premium", staff_seats=50, sms_per_month=5000, marketplace_tier="top",
               application_fee_bps=50, monthly_amount=9900, price_env="STRIPE_PRICE_PREMIUM",
               trial_env="BILLING_TRIAL_DAYS_PREMIUM")

PLANS: dict[str, Plan] = {p.code: p for p in (FREE, PRO, PREMIUM)}
PAID_PLANS: tuple[Plan, ...] = (PRO, PREMIUM)


def get_plan(code: str | None) -> Plan:
    """The plan with ``code``; Free for ``None`` or an unknown code."""
    return PLANS.get(code or "", FREE)


def plan_for_price(price_id: str | None) -> Plan | None:
    """The paid plan whose configured Stripe price id is ``price_id``, or ``None``."""
    if not price_id:
        return None
    return next((p for p in PAID_PLANS if p.price_id == price_id), None)


def plan_from_subscription(sub, now: datetime | None = None) -> Plan:
    """The plan a ``BillingSubscription`` row (or ``None``) entitles to at ``now``.

    Free when there is no row, billing is not configured, the status is not live, or the
    subscription has been past due for longer than :func:`grace_period`.
    """
    if sub is None or not billing_enabled() or sub.status not in LIVE_STATUSES:
        return FREE
    if sub.status == "past_due":
        since = sub.past_due_since or sub.updated_at
        if since is not None and (now or utcnow()) - since > grace_period():
            return FREE
    return get_plan(sub.plan)


def current_plan(tenant: object | None = None, now: datetime | None = None) -> Plan:
    """The plan in force at ``now`` for ``tenant`` (a ``Tenant`` or its id), default the tenant in scope.

    Raises:
        TenantScopeError: no tenant given and none in scope.
        TypeError: ``tenant`` is neither a ``Tenant`` nor a UUID.
    """
    if not billing_enabled():
        return with_platform_settings(FREE)
    tid = getattr(tenant, "id", tenant) if tenant is not None else require_tenant_id()
    if not isinstance(tid, uuid.UUID):
        raise TypeError(f"current_plan needs a Tenant or a tenant id (UUID), not {type(tid).__name__}")
    with tenant_scope(tid):
        sub = db.session.scalar(sa.select(BillingSubscription))
    return with_platform_settings(plan_from_subscription(sub, now))


def with_platform_settings(plan: Plan) -> Plan:
    """``plan`` with the features an admin changed in the platform settings (staff seats, SMS per
    month, marketplace tier: :func:`app.platform_settings.plan_overrides`); prices stay in Stripe."""
    overrides = plan_overrides(plan.code)
    return dataclasses.replace(plan, **overrides) if overrides else plan
