"""Stripe Connect: the tenant's connected account, its onboarding link and its status.

Tenant in scope; functions flush and never commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.payments.errors import PaymentUnavailable
from app.payments.gateway import GatewayError, get_connect
from app.payments.models import ConnectAccount
from app.tenants.models import Tenant


def connect_account() -> ConnectAccount | None:
    """The current tenant's connected account, if any."""
    return db.session.scalar(sa.select(ConnectAccount))


def start_connect_onboarding(tenant: Tenant, owner_email: str, refresh_url: str, return_url: str) -> str:
    """Create the tenant's connected account if needed and return an onboarding link. The
    account row is written only once Stripe gave the link, so a refusal writes nothing.

    Raises:
        PaymentUnavailable: Stripe refused or is unreachable.
    """
    acct = connect_account()
    connect = get_connect()
    try:
        account_id = acct.stripe_account_id if acct is not None else connect.create_account(
            email=owner_email, country=None, idempotency_key=f"tenant:{tenant.id}:connect-account")
        link = connect.onboarding_link(account_id, refresh_url=refresh_url, return_url=return_url)
    except GatewayError as exc:  # nothing written yet: the same idempotency key finds the account again
        raise PaymentUnavailable(_("Stripe could not start onboarding right now. Please try again.")) from exc
    if acct is None:
        db.session.add(ConnectAccount(stripe_account_id=account_id, charges_enabled=False, details_submitted=False,
                                      payouts_enabled=False))
        db.session.flush()
    return link


def sync_connect_account(stripe_account_id: str) -> ConnectAccount | None:
    """Re-fetch the account's status and upsert it on the tenant in scope (None when the
    account is not this tenant's)."""
    acct = db.session.scalar(sa.select(ConnectAccount).where(ConnectAccount.stripe_account_id == stripe_account_id))
    if acct is None:
        return None
    status = get_connect().retrieve_account(stripe_account_id)
    acct.charges_enabled = status.charges_enabled
    acct.details_submitted = status.details_submitted
    acct.payouts_enabled = status.payouts_enabled
    db.session.flush()
    return acct
