"""Sensitive actions write an audit entry in the transaction of the change, with the signed-in
actor, IP address and user agent of the request: API tokens, payment policy, refunds in the
ledger, sign-ins from a new device."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from flask_login import login_user

from app.audit.models import AuditEntry
from app.extensions import db
from app.identity.models import User
from app.identity.service import create_api_token
from app.identity.tokens import revoke_api_token
from app.notifications.account import notify_login
from app.payments.ledger import ledger_refund
from app.payments.policy import BusinessPolicy
from app.payments.settings import save_business_policy
from app.tenants.context import tenant_scope
from tests.factories import make_business, make_user

pytestmark = pytest.mark.integration

HEADERS = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}


def _entries(tenant_id) -> list[AuditEntry]:
    with tenant_scope(tenant_id):
        return list(db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)))


def test_api_tokens_and_payment_policy_changes_are_logged_with_the_request_actor(app, ctx):
    bella = make_business("bella")
    owner = db.session.scalar(sa.select(User).where(User.email == bella.owner_email))
    with app.test_request_context("/dashboard/", base_url="http://bella.localhost", headers=HEADERS,
                                  environ_base={"REMOTE_ADDR": "203.0.113.7"}), tenant_scope(bella.tenant_id):
        login_user(owner)
        token, _ = create_api_token("zapier", owner.id)
        token_id = str(token.id)
        revoke_api_token(token)
        revoke_api_token(token)  # already revoked: nothing new
        save_business_policy(BusinessPolicy(free_cancellation_hours=48, no_show_fee_percent=50))
        db.session.commit()
    entries = _entries(bella.tenant_id)
    assert [(e.action, e.object_id) for e in entries] == [
        ("api_token.created", token_id), ("api_token.revoked", token_id),
        ("payment_policy.changed", None)]
    assert {(e.actor_email, e.ip, e.user_agent) for e in entries} == {(bella.owner_email, "203.0.113.7",
                                                                       HEADERS["User-Agent"])}
    policy = entries[2]
    assert policy.before["free_cancellation_hours"] == 24 and policy.after["free_cancellation_hours"] == 48
    assert policy.after["no_show_fee_percent"] == 50


def test_a_refund_landing_in_the_ledger_is_logged_once(app, ctx):
    bella = make_business("bella")
    refund = {"id": "re_1", "status": "succeeded", "amount": 2500, "payment_intent": None}
    booking_id = uuid.uuid4()
    with tenant_scope(bella.tenant_id):
        ledger_refund(booking_id, "DKK", refund, "Refund: cancelled by the business", notify=False)
        ledger_refund(booking_id, "DKK", refund, "Refund: cancelled by the business", notify=False)  # replayed
        db.session.commit()
    [entry] = _entries(bella.tenant_id)
    assert (entry.action, entry.object_id, entry.actor_user_id) == ("payment.refunded", str(booking_id), None)
    assert entry.after == {"refund": "re_1", "amount": 2500, "currency": "DKK"}


def test_a_sign_in_from_a_new_device_is_logged(app, ctx):
    bella = make_business("bella")
    uid = make_user("pat@example.com")
    with app.test_request_context("/login", base_url="http://bella.localhost"), tenant_scope(bella.tenant_id):
        user = db.session.get(User, uid)
        first, _ = notify_login(user, None, device=HEADERS["User-Agent"], ip="198.51.100.1")  # the first ever
        notify_login(user, first, device=HEADERS["User-Agent"], ip="198.51.100.1")  # known device
        notify_login(user, None, device="Mozilla/5.0 (iPhone) Safari/605.1.15", ip="198.51.100.2")  # new device
        db.session.commit()
    [entry] = _entries(bella.tenant_id)
    assert (entry.action, entry.actor_email, entry.ip) == ("user.login_new_device", "pat@example.com", "198.51.100.2")
    assert "iPhone" in entry.after["device"] or "Safari" in entry.after["device"]
