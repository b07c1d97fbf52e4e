"""Quoting a claimed lead: the price range, duration and message reach the customer (chat and
email), the job request becomes ``quoted``; re-quoting keeps the history; bad quotes are refused
with the field at fault; the emailed link is signed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.service import AuditActor
from app.extensions import db
from app.identity.models import User
from app.leads.chat import messages
from app.leads.claims import claim_lead
from app.leads.models import JobRequest, Lead
from app.leads.quotes import QuoteError, QuoteInput, email_link, quote_lead, request_id_from_email_signature
from app.tenants.context import platform_scope, tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business
from tests.leads.provider_rows import add_member, give_credits, make_lead, make_request
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

TAP = QuoteInput(9000, 14000, "usd", 120, "I can come Thursday morning with a new cartridge.")


def _setup(claim: bool = True):
    biz = make_business("fixit", currency="USD", timezone="America/New_York")
    sam = add_member(biz.tenant_id, "sam@fixit.test")
    give_credits(biz.tenant_id, 10)
    request_id = make_request()
    lead_id = make_lead(biz.tenant_id, request_id)
    if claim:
        with tenant_scope(biz.tenant_id), unit_of_work():
            claim_lead(lead_id, db.session.get(User, sam), AuditActor(sam))
    return biz, sam, request_id, lead_id


def _quote(biz, sam, lead_id, data=TAP):
    with tenant_scope(biz.tenant_id), unit_of_work():
        quote_lead(lead_id, data, db.session.get(User, sam), AuditActor(sam))


def test_a_quote_reaches_the_customer_and_the_request_is_quoted(app, ctx, mailbox):
    biz, sam, request_id, lead_id = _setup()
    _quote(biz, sam, lead_id)
    with tenant_scope(biz.tenant_id):
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))
        assert (lead.status, lead.quote_min_amount, lead.quote_max_amount, lead.quote_currency,
                lead.quote_duration_minutes) == ("quoted", 9000, 14000, "USD", 120)
        assert [m.body for m in messages(lead)] == [
            "Quote: $90.00–$140.00, about 2 h.\n\nI can come Thursday morning with a new cartridge."]
    assert run_jobs(app) == []
    with platform_scope("test"):
        assert db.session.scalar(sa.select(JobRequest.status).where(JobRequest.id == request_id)) == "quoted"
    mail = mailbox.to("dana@example.com", "A quote from Fixit")
    assert len(mail) == 1
    body = text_of(mail[0])
    assert "$90.00–$140.00, about 2 h" in body and "new cartridge" in body
    link = next(line for line in body.splitlines() if "/from-email?s=" in line)
    assert request_id_from_email_signature(link.split("?s=")[1]) == request_id
    assert subject_of(mail[0]) == "A quote from Fixit: Fix a leaking tap"


def test_a_new_quote_replaces_the_old_one_and_keeps_the_history(app, ctx):
    biz, sam, _, lead_id = _setup()
    _quote(biz, sam, lead_id)
    _quote(biz, sam, lead_id, QuoteInput(10000, 12000, "USD", 90, "Fixed it at a tighter range."))
    with tenant_scope(biz.tenant_id):
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))
        assert (lead.quote_min_amount, lead.quote_max_amount) == (10000, 12000)
        bodies = [m.body for m in messages(lead)]
        assert bodies[0].startswith("Quote: $90.00–$140.00") and bodies[1].startswith(
            "Updated quote: $100.00–$120.00, about 1 h 30 min")
        audits = list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "lead.quoted")
                                         .order_by(AuditEntry.seq)))
        assert [a.after["max"] for a in audits] == [14000, 12000]
        assert audits[1].before["max"] == 14000


@pytest.mark.parametrize(("data", "field"), [
    (QuoteInput(14000, 9000, "USD", 120, "x"), "max"),
    (QuoteInput(-1, 9000, "USD", 120, "x"), "min"),
    (QuoteInput(9000, 14000, "EUR", 120, "x"), "currency"),
    (QuoteInput(9000, 14000, "USD", 0, "x"), "duration_minutes"),
    (QuoteInput(9000, 14000, "USD", 120, "   "), "message"),
])
def test_a_bad_quote_names_the_field_and_writes_nothing(ctx, data, field):
    biz, sam, _, lead_id = _setup()
    with pytest.raises(QuoteError) as refused:
        _quote(biz, sam, lead_id, data)
    assert refused.value.field == field
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(Lead.status).where(Lead.id == lead_id)) == "claimed"


def test_an_unclaimed_lead_cannot_be_quoted(ctx):
    biz, sam, _, lead_id = _setup(claim=False)
    with pytest.raises(QuoteError, match="Claim this lead"):
        _quote(biz, sam, lead_id)


def test_a_forged_or_other_email_link_is_refused(ctx):
    request_id = make_request()
    signature = email_link(request_id).split("?s=")[1]
    assert request_id_from_email_signature(signature) == request_id
    assert request_id_from_email_signature(signature[:-2] + "xx") is None
    assert request_id_from_email_signature("") is None
