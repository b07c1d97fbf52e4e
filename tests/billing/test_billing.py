"""Plans, limits and the owner's billing page, against localstripe."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import Result

from app.billing.gateway import get_gateway
from app.billing.models import BillingSubscription
from app.billing.plans import current_plan
from app.catalog.models import StaffMember
from app.extensions import db
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.billing_fixtures import PREMIUM, act, deliver, localstripe_url, page, stripe_on  # noqa: F401
from tests.support.conftest_mail import run_jobs, running_mailbox, subject_of, text_of

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


def row(biz) -> BillingSubscription | None:
    with tenant_scope(biz.tenant_id):
        found = db.session.scalar(sa.select(BillingSubscription))
        db.session.expunge_all()
        return found


def staff_count(biz) -> int:
    with tenant_scope(biz.tenant_id):
        return db.session.scalar(sa.select(sa.func.count()).select_from(StaffMember))


def add_staff(client, name: str):
    token = csrf_from(client.get("/dashboard/staff/new", base_url=BASE).data)
    return client.post("/dashboard/staff/new", base_url=BASE,
                       data={"csrf_token": token, "name": name, "email": "", "bio": "", "active": "y"})


def test_without_stripe_everyone_is_free_and_the_page_says_so(client, ctx):
    biz = make_business("bella")
    login_as(client, biz.owner_email, "bella.localhost")
    resp = page(client)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Billing is not configured" in text and "every business is on the Free plan" in text
    assert current_plan(biz.tenant_id).code == "free"
    result = client.application.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert result.exit_code == 0 and "billing is not configured" in result.output


def test_without_stripe_seat_limits_are_not_enforced(client, ctx):
    biz = make_business("bella", staff=2)
    login_as(client, biz.owner_email, "bella.localhost")
    assert add_staff(client, "Third Person").status_code == 303
    assert staff_count(biz) == 3


@pytest.mark.usefixtures("stripe_on")
def test_staff_beyond_the_seats_is_refused_with_the_upgrade_link(client, ctx):
    biz = make_business("bella", staff=2)
    login_as(client, biz.owner_email, "bella.localhost")
    resp = add_staff(client, "Third Person")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Your Free plan includes 2 staff seats" in text and 'href="/dashboard/billing"' in text
    assert 'value="Third Person"' in text
    assert staff_count(biz) == 2


def test_billing_page_is_for_owners_and_managers_only(app, client, ctx):
    from app.identity.service import find_user
    from app.tenants.models import Role
    from app.tenants.service import add_membership

    biz = make_business("bella")
    for email in ("staffer@bella.test", "manager@bella.test", "stranger@x.test"):
        make_user(email)
    with tenant_scope(biz.tenant_id):
        add_membership(find_user("staffer@bella.test"), Role.STAFF)
        add_membership(find_user("manager@bella.test"), Role.MANAGER)
    db.session.commit()
    for email, status in (("staffer@bella.test", 403), ("stranger@x.test", 404), ("manager@bella.test", 200)):
        c = app.test_client()
        login_as(c, email, "bella.localhost")
        assert page(c).status_code == status, email
    assert page(app.test_client()).status_code == 302  # anonymous: to the login page
    login_as(client, biz.owner_email, "localhost")
    assert client.get("/dashboard/billing", base_url="http://localhost").status_code == 404


@pytest.mark.usefixtures("stripe_on")
def test_owner_subscribes_upgrades_cancels_and_resumes(client, ctx):
    biz = make_business("bella", staff=2)
    login_as(client, biz.owner_email, "bella.localhost")
    assert "Subscribe to Pro" in page(client).get_data(as_text=True)

    resp = act(client, "subscribe", plan="pro", card="4242424242424242")
    assert resp.status_code == 303
    sub = row(biz)
    assert (sub.status, sub.plan, sub.cancel_at_period_end) == ("active", "pro", False)
    assert sub.current_period_end > utcnow() + timedelta(days=20)
    assert current_plan(biz.tenant_id).code == "pro"
    text = page(client).get_data(as_text=True)
    assert 'id="current-plan">Pro<' in text and "Switch to Premium" in text
    assert "29.00" in text  # the first invoice is listed
    # The Pro plan's 10 seats let a third person in.
    assert add_staff(client, "Third Person").status_code == 303
    assert staff_count(biz) == 3

    act(client, "change", plan="premium")
    assert row(biz).plan == "premium" and current_plan(biz.tenant_id).code == "premium"

    act(client, "cancel")
    assert row(biz).cancel_at_period_end is True
    assert "set to end at the end of the current period" in page(client).get_data(as_text=True)
    act(client, "resume")
    assert row(biz).cancel_at_period_end is False


@pytest.mark.usefixtures("stripe_on")
def test_failed_payment_dunning_grace_and_recovery(client, ctx, monkeypatch):
    from tests.blueprints.storefront.test_storefront import book, local_start

    biz = make_business("bella", staff=1)
    login_as(client, biz.owner_email, "bella.localhost")
    act(client, "subscribe", plan="pro", card="4242424242424242")
    sub_id = row(biz).stripe_subscription_id
    gw = get_gateway()
    # The card starts failing; the upgrade's invoice cannot be paid: Stripe marks it past due.
    act(client, "card", card="4000000000000341")
    changed = act(client, "change", plan="premium")
    assert "The payment did not go through" in client.get(changed.headers["Location"], base_url=BASE).get_data(
        as_text=True)
    at_stripe = gw.retrieve_subscription(sub_id)
    assert at_stripe["status"] == "past_due"
    invoice = gw.retrieve_invoice(at_stripe["latest_invoice"])
    assert invoice["status"] == "open"

    with running_mailbox() as box:
        monkeypatch.setitem(client.application.config, "SMTP_URL", box.url)
        assert deliver(client, "evt_fail_1", "invoice.payment_failed", invoice).status_code == 200
        assert run_jobs(client.application) == []
        sub = row(biz)
        assert sub.status == "past_due" and sub.past_due_since is not None
        [mail] = box.to(biz.owner_email)
        assert subject_of(mail).startswith("Payment failed for your Plaza subscription")
        assert "Past due".lower() in page(client).get_data(as_text=True).lower()
        # Within the grace period the paid plan holds; after it, features pause (Free)...
        assert current_plan(biz.tenant_id).code == "premium"
        assert current_plan(biz.tenant_id, now=sub.past_due_since + timedelta(days=8)).code == "free"
        monkeypatch.setitem(client.application.config, "BILLING_GRACE_DAYS", "0")
        assert current_plan(biz.tenant_id).code == "free"
        # ...while the storefront keeps taking bookings.
        assert book(client, biz, local_start(2, 10)).status_code == 303

        # The owner fixes the card: the open invoice is paid and the subscription recovers.
        act(client, "card", card="4242424242424242")
        paid = gw.retrieve_invoice(invoice["id"])
        assert paid["status"] == "paid"
        for _ in range(2):
            assert deliver(client, "evt_paid_1", "invoice.payment_succeeded", paid).status_code == 200
        assert run_jobs(client.application) == []
        assert row(biz).status == "active" and row(biz).past_due_since is None
        assert current_plan(biz.tenant_id).code == "premium"
        box.wait_until(lambda: len(box.to(biz.owner_email)) >= 2, timeout=10)
        subjects = sorted(subject_of(m) for m in box.to(biz.owner_email))
        assert len(subjects) == 2 and subjects[0].startswith("Payment failed")
        assert subjects[1].startswith("Payment received")


@pytest.mark.usefixtures("stripe_on")
def test_each_failed_attempt_emails_the_owner_once(client, ctx, monkeypatch):
    """Stripe retries a failed invoice (smart retries): the owner hears about every attempt,
    once each, however often and in whatever order the events arrive."""
    import random

    biz = make_business("bella", staff=1)
    login_as(client, biz.owner_email, "bella.localhost")
    act(client, "subscribe", plan="pro", card="4242424242424242")
    act(client, "card", card="4000000000000341")
    act(client, "change", plan="premium")
    gw = get_gateway()
    invoice = gw.retrieve_invoice(gw.retrieve_subscription(row(biz).stripe_subscription_id)["latest_invoice"])
    attempts = [(f"evt_attempt_{n}", {**invoice, "attempt_count": n}) for n in (1, 2, 3)]
    deliveries = attempts * 2
    random.Random(7).shuffle(deliveries)
    with running_mailbox() as box:
        monkeypatch.setitem(client.application.config, "SMTP_URL", box.url)
        for event_id, obj in deliveries:
            assert deliver(client, event_id, "invoice.payment_failed", obj).status_code == 200
        assert run_jobs(client.application) == []
        box.wait_until(lambda: len(box.to(biz.owner_email)) >= 3, timeout=10)
        mails = box.to(biz.owner_email)
        assert len(mails) == 3
        assert all(subject_of(m).startswith("Payment failed for your Plaza subscription") for m in mails)
        bodies = sorted(text_of(m) for m in mails)
        assert [f"(attempt {n})" in body for n, body in zip((1, 2, 3), bodies, strict=True)] == [True] * 3
        assert all("keeps taking bookings" in body for body in bodies)


@pytest.mark.usefixtures("stripe_on")
def test_reconcile_repairs_drift_and_prints_it(app, ctx):
    biz = make_business("bella")
    from app.billing.service import subscribe

    with tenant_scope(biz.tenant_id):
        subscribe("pro", biz.owner_email, "Bella", get_gateway().create_test_payment_method())
        db.session.commit()
    sub_id = row(biz).stripe_subscription_id
    get_gateway().set_cancel_at_period_end(sub_id, True)  # changed at Stripe, webhook lost
    assert row(biz).cancel_at_period_end is False
    result: Result = app.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert result.exit_code == 0, result.output
    assert f"{sub_id}: cancel_at_period_end: False -> True" in result.output
    assert row(biz).cancel_at_period_end is True
    again = app.test_cli_runner().invoke(args=["billing", "reconcile"])
    assert "reconciled: 0 subscription(s) changed" in again.output
