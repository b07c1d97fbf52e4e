"""A customer record's marketing consent, read from notifications' ``marketing_consent``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.booking.models import Customer
from app.customers.ownership import account_of
from app.extensions import db
from app.notifications.center_models import MarketingConsent
from app.tenants.context import require_tenant_id
from app.tenants.roles import on_tenant_role, platform_read

#: Values of :attr:`Consent.status`.
GRANTED, WITHDRAWN, NEVER, NO_ACCOUNT = "granted", "withdrawn", "never", "no_account"


@dataclass(frozen=True)
class Consent:
    """``status``: ``granted`` (a standing consent, from everyone or this business), ``withdrawn``
    (the latest consent was taken back), ``never`` (an account that never agreed) or
    ``no_account`` (a guest: consent is given from an account); ``since`` (UTC) when it was
    given or withdrawn; ``method`` how; ``scope`` ``"platform"`` or ``"business"``."""

    status: str
    since: datetime | None = None
    method: str = ""
    scope: str = ""


def consent_rows(user_id: uuid.UUID) -> list[MarketingConsent]:
    """The person's consents for this business or for everyone, newest first. The tenant role
    sees only this business's rows of other people, so the platform-wide ones are read through
    :func:`app.tenants.roles.platform_read`."""
    tenant_id = require_tenant_id()
    query = sa.select(MarketingConsent).where(
        MarketingConsent.user_id == user_id,
        sa.or_(MarketingConsent.tenant_id.is_(None), MarketingConsent.tenant_id == tenant_id))
    rows = list(db.session.scalars(query))
    if on_tenant_role():
        with platform_read("marketing consent of a business's customer for its customer page") as conn:
            seen = {r.id for r in rows}
            rows += [MarketingConsent(**dict(r._mapping)) for r in conn.execute(
                sa.select(*MarketingConsent.__table__.columns).where(
                    MarketingConsent.user_id == user_id, MarketingConsent.tenant_id.is_(None)))
                if r.id not in seen]
    return sorted(rows, key=lambda r: r.granted_at, reverse=True)


def consent_of(customer: Customer) -> Consent:
    """The marketing consent of the person behind ``customer`` (see :class:`Consent`)."""
    account = account_of(customer.id)
    if account is None or customer.erased_at is not None:
        return Consent(NO_ACCOUNT)
    rows = consent_rows(account)
    standing = [r for r in rows if r.withdrawn_at is None]
    if standing:
        r = standing[0]
        return Consent(GRANTED, r.granted_at, r.method, "platform" if r.tenant_id is None else "business")
    if rows:
        r = max(rows, key=lambda x: x.withdrawn_at)
        return Consent(WITHDRAWN, r.withdrawn_at, r.withdrawn_method or "",
                       "platform" if r.tenant_id is None else "business")
    return Consent(NEVER)
