"""The job chat from the provider's side: a staff message marks the customer contacted (also when
posted through the chat service directly), reaches the customer by email with the link to their
request, and the customer's reply (part C's way in) lands in the same conversation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.service import AuditActor
from app.chat import service as chat
from app.extensions import db
from app.identity.models import User
from app.leads.chat import lead_conversation, messages, post_as_customer, post_as_staff, staff_principal
from app.leads.claims import claim_lead
from app.leads.models import Lead
from app.tenants.context import tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business
from tests.leads.provider_rows import add_member, give_credits, make_lead, make_request
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration


def _claimed():
    biz = make_business("fixit", currency="USD")
    sam = add_member(biz.tenant_id, "sam@fixit.test", name="Sam Staff")
    give_credits(biz.tenant_id, 10)
    lead_id = make_lead(biz.tenant_id, make_request())
    with tenant_scope(biz.tenant_id), unit_of_work():
        claim_lead(lead_id, db.session.get(User, sam), AuditActor(sam))
    return biz, sam, lead_id


def _lead(lead_id) -> Lead:
    return db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))


def test_a_staff_message_marks_contact_and_emails_the_customer(app, ctx, mailbox):
    biz, sam, lead_id = _claimed()
    run_jobs(app)  # the claim email
    with tenant_scope(biz.tenant_id), unit_of_work():
        lead = _lead(lead_id)
        assert lead.contacted_at is None
        post_as_staff(lead, db.session.get(User, sam), "Hi Dana, can I come Thursday?")
    with tenant_scope(biz.tenant_id):
        assert _lead(lead_id).contacted_at is not None
    assert run_jobs(app) == []
    mail = mailbox.to("dana@example.com", "Fixit: a message about")
    assert len(mail) == 1 and subject_of(mail[0]) == "Fixit: a message about Fix a leaking tap"
    assert "Sam Staff of Fixit wrote" in text_of(mail[0]) and "/from-email?s=" in text_of(mail[0])


def test_any_staff_message_in_the_conversation_counts_as_contact(ctx):
    biz, sam, lead_id = _claimed()
    with tenant_scope(biz.tenant_id), unit_of_work():
        lead = _lead(lead_id)
        chat.post_message(lead_conversation(lead), staff_principal(db.session.get(User, sam)), "Calling you now")
    with tenant_scope(biz.tenant_id):
        assert _lead(lead_id).contacted_at is not None


def test_the_customer_replies_in_the_same_conversation(ctx):
    biz, sam, lead_id = _claimed()
    with tenant_scope(biz.tenant_id), unit_of_work():
        post_as_customer(_lead(lead_id), "Thursday works, thanks!")
    with tenant_scope(biz.tenant_id):
        lead = _lead(lead_id)
        assert [(m.author_role, m.author_name, m.body) for m in messages(lead)] == [
            ("customer", "Dana Cole", "Thursday works, thanks!")]
        assert lead.contacted_at is None  # only the provider's message counts as contact
