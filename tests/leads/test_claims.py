"""Claiming a lead: the credits are spent once, the contact and a customer record are the
provider's, the job chat opens, the customer is emailed; expired, taken and unaffordable leads are
refused with nothing written, and two staff claiming at once make one claim."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.service import AuditActor
from app.booking.models import Customer
from app.chat.models import Participant
from app.credits import balance, entries
from app.extensions import db
from app.identity.models import User
from app.leads.chat import lead_conversation
from app.leads.claims import ClaimRefused, ShortOfCredits, claim_lead
from app.leads.models import Lead
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from app.uow import unit_of_work
from tests.factories import make_business
from tests.leads.provider_rows import add_member, give_credits, make_lead, make_request
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration


def _lead(lead_id):
    return db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))


def _claim(tenant_id, lead_id, user_id):
    with tenant_scope(tenant_id), unit_of_work():
        user = db.session.get(User, user_id)
        outcome = claim_lead(lead_id, user, AuditActor(user_id))
        return outcome.replayed


def test_a_claim_spends_the_credits_and_gives_the_provider_the_customer(app, ctx, mailbox):
    biz = make_business("fixit", currency="USD", timezone="America/New_York")
    sam = add_member(biz.tenant_id, "sam@fixit.test")
    give_credits(biz.tenant_id, 10)
    lead_id = make_lead(biz.tenant_id, make_request(), credits=3)

    assert _claim(biz.tenant_id, lead_id, sam) is False

    with tenant_scope(biz.tenant_id):
        lead = _lead(lead_id)
        assert (lead.status, lead.claimed_by) == ("claimed", sam)
        assert (lead.contact_name, lead.contact_email, lead.contact_phone) == (
            "Dana Cole", "dana@example.com", "+12125550123")
        assert timedelta(hours=23, minutes=59) < lead.contact_due_at - lead.claimed_at <= timedelta(hours=24)
        customer = db.session.scalar(sa.select(Customer).where(Customer.id == lead.customer_id))
        assert (customer.name, customer.email) == ("Dana Cole", "dana@example.com")
        assert balance() == 7
        assert [(e.kind, e.amount, e.lead_id) for e in entries()][0] == ("claim", -3, lead_id)
        conv = lead_conversation(lead)
        roles = sorted(p.role for p in db.session.scalars(sa.select(Participant).where(
            Participant.conversation_id == conv.id)))
        assert roles == ["customer", "staff"]
        audit = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "lead.claimed"))
        assert audit is not None and audit.object_id == str(lead_id)

    assert run_jobs(app) == []
    mail = mailbox.to("dana@example.com")
    assert len(mail) == 1 and subject_of(mail[0]) == "Fixit has your request: Fix a leaking tap"
    assert "/requests/" in text_of(mail[0]) and "/from-email?s=" in text_of(mail[0])


def test_a_retry_by_the_claimer_debits_nothing_more(ctx):
    biz = make_business("fixit", currency="USD")
    sam = add_member(biz.tenant_id, "sam@fixit.test")
    give_credits(biz.tenant_id, 10)
    lead_id = make_lead(biz.tenant_id, make_request(), credits=4)
    assert _claim(biz.tenant_id, lead_id, sam) is False
    assert _claim(biz.tenant_id, lead_id, sam) is True
    with tenant_scope(biz.tenant_id):
        assert balance() == 6 and len(entries()) == 2


def test_a_colleague_cannot_claim_it_again(ctx):
    biz = make_business("fixit", currency="USD")
    sam = add_member(biz.tenant_id, "sam@fixit.test", name="Sam Staff")
    ria = add_member(biz.tenant_id, "ria@fixit.test", name="Ria Ray")
    give_credits(biz.tenant_id, 10)
    lead_id = make_lead(biz.tenant_id, make_request())
    _claim(biz.tenant_id, lead_id, sam)
    with pytest.raises(ClaimRefused) as refused:
        _claim(biz.tenant_id, lead_id, ria)
    assert refused.value.code == "already_claimed" and "Sam Staff" in refused.value.message
    with tenant_scope(biz.tenant_id):
        assert balance() == 7


def test_an_expired_or_withdrawn_lead_is_refused(ctx):
    biz = make_business("fixit", currency="USD")
    sam = add_member(biz.tenant_id, "sam@fixit.test")
    give_credits(biz.tenant_id, 10)
    expired = make_lead(biz.tenant_id, make_request(), expires_in_minutes=-1)
    declined = make_lead(biz.tenant_id, make_request(email="eve@example.com"), status="declined")
    for lead_id in (expired, declined):
        with pytest.raises(ClaimRefused) as refused:
            _claim(biz.tenant_id, lead_id, sam)
        assert refused.value.code == "not_routed"
    with tenant_scope(biz.tenant_id):
        assert balance() == 10
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 0


def test_short_of_credits_writes_nothing(ctx):
    biz = make_business("fixit", currency="USD")
    sam = add_member(biz.tenant_id, "sam@fixit.test")
    give_credits(biz.tenant_id, 2)
    lead_id = make_lead(biz.tenant_id, make_request(), credits=5)
    with pytest.raises(ShortOfCredits) as refused:
        _claim(biz.tenant_id, lead_id, sam)
    assert (refused.value.needed, refused.value.balance, refused.value.code) == (5, 2, "short_of_credits")
    with tenant_scope(biz.tenant_id):
        assert _lead(lead_id).status == "offered"
        assert balance() == 2


def test_another_business_cannot_claim_a_lead_it_was_not_offered(ctx):
    fixit = make_business("fixit", currency="USD")
    other = make_business("other", currency="USD", owner_email="owner@other.test")
    ola = add_member(other.tenant_id, "ola@other.test")
    give_credits(other.tenant_id, 10)
    lead_id = make_lead(fixit.tenant_id, make_request())
    with pytest.raises(LookupError):
        _claim(other.tenant_id, lead_id, ola)
    with tenant_scope(fixit.tenant_id):
        assert _lead(lead_id).status == "offered"


def test_two_staff_claiming_at_once_make_one_claim_and_one_debit(app, ctx):
    biz = make_business("fixit", currency="USD")
    people = [add_member(biz.tenant_id, f"staff{i}@fixit.test", name=f"Staff {i}") for i in range(4)]
    give_credits(biz.tenant_id, 20)
    lead_id = make_lead(biz.tenant_id, make_request(), credits=3)
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def claim(user_id) -> None:
        with app.app_context():
            barrier.wait(30)
            try:
                _claim(biz.tenant_id, lead_id, user_id)
                outcomes.append("claimed")
            except ClaimRefused as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["already_claimed"] * 3 + ["claimed"]
    with tenant_scope(biz.tenant_id):
        assert balance() == 17
        assert [e.kind for e in entries()].count("claim") == 1
        assert _lead(lead_id).claimed_at <= utcnow()
