"""Every job-request email speaks its recipient's language, whoever sends it and in whatever
language the worker spoke last: the customer's in the language they wrote the request in (their
account's choice first), the business's owners and managers in their account's language (else the
business's default). Through the real RQ worker (one run for several recipients) and SMTP catcher."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.audit.service import AuditActor
from app.extensions import db
from app.identity.models import User
from app.jobs.runner import enqueue
from app.leads.chat import post_as_staff
from app.leads.claims import claim_lead
from app.leads.models import JobRequest, Lead
from app.leads.quotes import QuoteInput, quote_lead
from app.leads.recipients import job_request_locale
from app.tenants.context import platform_scope, tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business
from tests.leads import customer_rows
from tests.leads.provider_rows import add_member, give_credits, make_lead, make_request
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

TAP = QuoteInput(9000, 14000, "DKK", 120, "Jeg kan komme torsdag.")


def speaks(request_id: uuid.UUID, locale: str) -> None:
    """The job request was written in ``locale`` (what the wizard records)."""
    with platform_scope("test: the request's language"):
        db.session.execute(sa.update(JobRequest).where(JobRequest.id == request_id).values(locale=locale))
        db.session.commit()


def chooses(user_id: uuid.UUID, locale: str | None) -> None:
    """Account ``user_id`` reads Plaza in ``locale``."""
    db.session.execute(sa.update(User).where(User.id == user_id).values(locale=locale))
    db.session.commit()


def claimed(biz, sam, email: str, locale: str) -> uuid.UUID:
    """A lead of a request by ``email`` written in ``locale``, claimed by ``sam``; returns its id."""
    request_id = make_request(email=email, name=email.split("@")[0].title())
    speaks(request_id, locale)
    lead_id = make_lead(biz.tenant_id, request_id)
    with tenant_scope(biz.tenant_id), unit_of_work():
        claim_lead(lead_id, db.session.get(User, sam), AuditActor(sam))
    return lead_id


@pytest.fixture
def fixit(ctx):
    """Fixit (Copenhagen, DKK, default language English) with a manager, Sam, who reads English."""
    biz = make_business("fixit", currency="DKK", timezone="Europe/Copenhagen")
    sam = add_member(biz.tenant_id, "sam@fixit.test", name="Sam Staff")
    give_credits(biz.tenant_id, 20)
    return biz, sam


def test_the_customer_hears_of_the_claim_quote_and_chat_in_the_language_of_their_request(app, fixit, mailbox):
    biz, sam = fixit
    danish = claimed(biz, sam, "dorthe@example.com", "da")
    english = claimed(biz, sam, "erin@example.com", "en")
    for lead_id in (danish, english):
        with tenant_scope(biz.tenant_id), unit_of_work():
            quote_lead(lead_id, TAP, db.session.get(User, sam), AuditActor(sam))
        with tenant_scope(biz.tenant_id), unit_of_work():
            lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_id))
            post_as_staff(lead, db.session.get(User, sam), "Passer torsdag kl. 9?")
    assert run_jobs(app) == []  # one worker run for both customers, alternating

    da = {subject_of(m): text_of(m) for m in mailbox.to("dorthe@example.com")}
    assert set(da) == {"Fixit har din forespørgsel: Fix a leaking tap", "Tilbud fra Fixit: Fix a leaking tap",
                       "Fixit: en besked om Fix a leaking tap"}
    assert "Hej Dorthe\r\n" in da["Fixit har din forespørgsel: Fix a leaking tap"]
    quote = da["Tilbud fra Fixit: Fix a leaking tap"]
    assert "har sendt dig et tilbud" in quote and "90,00\xa0kr.–140,00\xa0kr., ca. 2 t" in quote
    assert "Bekræft det, afslå det eller stil et spørgsmål her:" in quote
    assert "Sam Staff fra Fixit skrev om" in da["Fixit: en besked om Fix a leaking tap"]

    en = {subject_of(m): text_of(m) for m in mailbox.to("erin@example.com")}
    assert set(en) == {"Fixit has your request: Fix a leaking tap", "A quote from Fixit: Fix a leaking tap",
                       "Fixit: a message about Fix a leaking tap"}
    assert "Fixit sent you a quote for" in en["A quote from Fixit: Fix a leaking tap"]
    assert "kr., about 2 h." in en["A quote from Fixit: Fix a leaking tap"]
    assert "Sam Staff of Fixit wrote about" in en["Fixit: a message about Fix a leaking tap"]


def test_a_customer_with_an_account_hears_in_their_accounts_language(app, ctx):
    biz = make_business("fixit", currency="DKK")
    from tests.factories import make_user

    cara = make_user("cara@example.test")
    chooses(cara, "da")
    rows = customer_rows.make_request(user_id=cara)  # written in English
    assert job_request_locale(rows.id, biz.tenant_id) == "da"
    chooses(cara, None)
    assert job_request_locale(rows.id, biz.tenant_id) == "en"


def test_owners_and_managers_hear_of_an_offer_and_an_outcome_in_their_own_language(app, fixit, mailbox):
    biz, sam = fixit
    with platform_scope("test: the owner reads Danish"):
        owner = db.session.scalar(sa.select(User.id).where(User.email == biz.owner_email))
    chooses(owner, "da")
    offered = make_lead(biz.tenant_id, make_request(), credits=3, title="Skift en vandhane")
    lost = customer_rows.make_lead(biz.tenant_id, customer_rows.make_request().id, status="lost", currency="DKK")
    enqueue("app.leads.routing_tasks.send_offer_email", str(biz.tenant_id), str(offered))
    enqueue("app.leads.customer_tasks.send_lead_outcome", str(biz.tenant_id), str(lost))
    assert run_jobs(app) == []

    [offer_da] = mailbox.to(biz.owner_email, "Ny opgaveforespørgsel")
    assert subject_of(offer_da) == "Ny opgaveforespørgsel: Skift en vandhane i 10001 New York"
    body = text_of(offer_da)
    assert "Det koster 3 credits at tage den." in body and "Hvor: 10001 New York" in body
    # The deadline as a Dane reads it: weekday and month in Danish, a 24-hour clock.
    assert re.search(r"Tag den før (mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag) \d{1,2}\. "
                     r"(januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december) "
                     r"\d{4}.* \d{2}[.:]\d{2}: http://fixit\.localhost", body), body
    [offer_en] = mailbox.to("sam@fixit.test", "New job request")
    assert "Claiming it costs 3 credits." in text_of(offer_en) and "Claim it before " in text_of(offer_en)

    [outcome_da] = mailbox.to(biz.owner_email, "Ikke denne gang")
    assert "har valgt ikke at gå videre med jeres tilbud" in text_of(outcome_da)
