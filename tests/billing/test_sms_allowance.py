"""The plan's monthly SMS allowance: a business's text messages stop when its plan's SMS are
used (the delivery log says why), start again on a bigger plan, and the billing page shows
the count. Without Stripe configured nothing is capped."""

from __future__ import annotations

import pytest
from flask import current_app

from app.billing.gateway import get_gateway
from app.billing.service import subscribe
from app.extensions import db
from app.identity.models import User
from app.notifications import dispatch, preferences
from app.tenants.context import tenant_scope
from tests.helpers import login_as
from tests.support.billing_fixtures import localstripe_url, stripe_on  # noqa: F401
from tests.support.conftest_mail import mailbox, run_jobs  # noqa: F401
from tests.support.notification_support import alice, bella, deliveries_of

pytestmark = pytest.mark.integration


def _text_alice(biz, alice_id, n: int) -> None:
    """A refund notice from the business to Alice (SMS on, phone set), then run the jobs."""
    notified = dispatch.notify(user_id=alice_id, type_key="refund_issued", audience="customer",
                             context={"business": "Bella Hair Studio", "amount": "50.00 kr."},
                             tenant_id=biz.tenant_id, subject_key=f"booking:{n}", source_key=f"sms-allowance-{n}")
    db.session.commit()
    dispatch.enqueue_deliveries(notified.queued)
    assert run_jobs(current_app._get_current_object()) == []


def _alice_with_phone() -> object:
    alice_id = alice()
    db.session.get(User, alice_id).phone = "+4512345678"
    preferences.set_preference(alice_id, "refund_issued", "sms", True)
    db.session.commit()
    return alice_id


@pytest.mark.usefixtures("stripe_on")
def test_texts_stop_when_the_plans_sms_are_used_and_resume_on_pro(client, ctx, mailbox):  # noqa: F811
    biz = bella()
    alice_id = _alice_with_phone()
    _text_alice(biz, alice_id, 1)
    [sms] = deliveries_of(alice_id, "sms")
    assert (sms.status, sms.error) == ("skipped", "the Free plan's 0 SMS this month are used")
    login_as(client, biz.owner_email, "bella.localhost")
    page = client.get("/dashboard/billing", base_url="http://bella.localhost").get_data(as_text=True)
    assert "Text messages are not included in Free; upgrade to send SMS reminders." in page

    with tenant_scope(biz.tenant_id):
        subscribe("pro", biz.owner_email, "Bella", get_gateway().create_test_payment_method())
        db.session.commit()
    _text_alice(biz, alice_id, 2)
    assert [d.status for d in deliveries_of(alice_id, "sms")] == ["skipped", "sent"]
    page = client.get("/dashboard/billing", base_url="http://bella.localhost").get_data(as_text=True)
    assert "SMS this month: 1 of 500." in page


def test_without_stripe_texts_are_not_capped(ctx, mailbox):  # noqa: F811
    biz = bella()
    alice_id = _alice_with_phone()
    _text_alice(biz, alice_id, 1)
    assert [d.status for d in deliveries_of(alice_id, "sms")] == ["sent"]
