"""Billing emails speak the owner's language: their account's choice, else the business's
default; the amount in their locale's format. Against localstripe, through the real RQ worker
and SMTP catcher."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.billing.gateway import get_gateway
from app.billing.models import BillingSubscription
from app.extensions import db
from app.identity.models import User
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.helpers import login_as
from tests.support.billing_fixtures import act, deliver, localstripe_url, stripe_on  # noqa: F401
from tests.support.conftest_mail import run_jobs, running_mailbox, subject_of, text_of

pytestmark = pytest.mark.integration


def reads(email: str, locale: str | None) -> None:
    db.session.execute(sa.update(User).where(User.email == email).values(locale=locale))
    db.session.commit()


@pytest.mark.usefixtures("stripe_on")
def test_dunning_reaches_the_owner_in_their_language(client, ctx, monkeypatch):
    biz = make_business("bella", staff=1)
    login_as(client, biz.owner_email, "bella.localhost")
    act(client, "subscribe", plan="pro", card="4242424242424242")
    act(client, "card", card="4000000000000341")
    act(client, "change", plan="premium")
    with tenant_scope(biz.tenant_id):
        sub_id = db.session.scalar(sa.select(BillingSubscription.stripe_subscription_id))
    gw = get_gateway()
    invoice = gw.retrieve_invoice(gw.retrieve_subscription(sub_id)["latest_invoice"])
    amount = int(invoice["amount_due"])
    with running_mailbox() as box:
        monkeypatch.setitem(client.application.config, "SMTP_URL", box.url)
        reads(biz.owner_email, "da")
        assert deliver(client, "evt_da_1", "invoice.payment_failed", {**invoice, "attempt_count": 1}).status_code == 200
        assert run_jobs(client.application) == []
        reads(biz.owner_email, None)  # no choice: the business's default (English)
        assert deliver(client, "evt_en_2", "invoice.payment_failed", {**invoice, "attempt_count": 2}).status_code == 200
        assert run_jobs(client.application) == []
        box.wait_until(lambda: len(box.to(biz.owner_email)) >= 2, timeout=10)
        mails = {subject_of(m): text_of(m) for m in box.to(biz.owner_email)}

    danish = mails["Betalingen for jeres Plaza-abonnement mislykkedes (Bella)"]
    assert "(forsøg 1)" in danish and "Opdater venligst kortet" in danish
    whole, cents = divmod(amount, 100)
    assert f"{whole:,}".replace(",", ".") + f",{cents:02d}\xa0USD" in danish  # Danish money: 961,00 USD
    english = mails["Payment failed for your Plaza subscription (Bella)"]
    assert "(attempt 2)" in english and f"${whole:,}.{cents:02d}" in english
