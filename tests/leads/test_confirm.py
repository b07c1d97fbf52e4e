"""The customer confirms a quote: one booking in the provider's calendar through the booking core
(never a second one, not even with two confirms at once), the other providers lose, the request is
booked, every change is audited and the providers hear about it; rejecting turns one offer down."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.service import AuditActor
from app.booking.errors import SlotUnavailable
from app.booking.models import Booking
from app.catalog.models import Service
from app.catalog.service import list_services
from app.extensions import db
from app.leads.confirm import DecisionRefused, available_starts, confirm_quote, reject_quote
from app.leads.models import JobRequest, Lead
from app.tenants.context import platform_scope, tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business, make_user
from tests.leads.customer_rows import make_lead, make_request
from tests.support.conftest_mail import run_jobs

pytestmark = pytest.mark.integration

ACTOR = AuditActor(None, "127.0.0.1", "test")


def _two_quotes():
    a = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    b = make_business("tapco", timezone="America/New_York", currency="USD", staff=1)
    req = make_request()
    lead_a = make_lead(a.tenant_id, req.id, low=9000, high=14000)
    lead_b = make_lead(b.tenant_id, req.id, low=8000, high=20000)
    return a, b, req, lead_a, lead_b


def _tomorrow_10(tz: str = "America/New_York") -> datetime:
    from zoneinfo import ZoneInfo
    local = datetime.now(ZoneInfo(tz)).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return local


def _status(model, ident, tenant_id=None):
    if tenant_id is None:
        with platform_scope("test"):
            return db.session.scalar(sa.select(model.status).where(model.id == ident))
    with tenant_scope(tenant_id):
        return db.session.scalar(sa.select(model.status).where(model.id == ident))


def test_confirming_a_quote_books_the_provider_and_closes_the_rest(ctx, mailbox):
    a, b, req, lead_a, lead_b = _two_quotes()
    start = _tomorrow_10()
    with unit_of_work():
        booking = confirm_quote(req.id, lead_a, start, ACTOR)
        booking_id = booking.id
    with tenant_scope(a.tenant_id):
        booked = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        service = db.session.scalar(sa.select(Service).where(Service.id == booked.service_id))
        assert booked.starts_at == start and booked.status == "confirmed"
        assert booked.price_amount == 14000 and booked.currency == "USD"
        assert service.duration_minutes == 60 and "Quote accepted" in booked.notes
        assert service not in list_services()  # not on the public menu
        lead = db.session.scalar(sa.select(Lead).where(Lead.id == lead_a))
        assert (lead.status, lead.booking_id) == ("won", booking_id)
    assert _status(Lead, lead_b, b.tenant_id) == "lost"
    with platform_scope("test"):
        jr = db.session.get(JobRequest, req.id)
        assert (jr.status, jr.won_lead_id) == ("booked", lead_a)
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert {"lead.won", "lead.lost", "job_request.booked"} <= actions
    assert run_jobs(ctx) == []
    subjects = {(m["To"], m["Subject"]) for m in mailbox.messages}
    assert ("owner@fixit.test", "Quote accepted: Fix a leaking kitchen tap") in subjects
    assert ("owner@tapco.test", "Not this time: Fix a leaking kitchen tap") in subjects


def test_a_second_confirm_returns_the_same_booking_and_another_quote_is_refused(ctx):
    a, _b, req, lead_a, lead_b = _two_quotes()
    with unit_of_work():
        first = confirm_quote(req.id, lead_a, _tomorrow_10(), ACTOR).id
    with unit_of_work():
        again = confirm_quote(req.id, lead_a, _tomorrow_10() + timedelta(hours=2), ACTOR).id
    assert again == first
    with pytest.raises(DecisionRefused, match="another quote"), unit_of_work():
        confirm_quote(req.id, lead_b, _tomorrow_10(), ACTOR)
    with tenant_scope(a.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_a_taken_time_is_refused_with_other_starts_and_nothing_changes(ctx):
    a, _b, req, lead_a, _lead_b = _two_quotes()
    other = make_request(email="dan@example.test")
    lead_other = make_lead(a.tenant_id, other.id)
    start = _tomorrow_10()
    with unit_of_work():
        confirm_quote(other.id, lead_other, start, ACTOR)
    with pytest.raises(SlotUnavailable) as refused, unit_of_work():
        confirm_quote(req.id, lead_a, start + timedelta(minutes=30), ACTOR)
    assert refused.value.alternatives
    assert _status(Lead, lead_a, a.tenant_id) == "quoted"
    assert _status(JobRequest, req.id) == "routed"
    _tenant, starts = available_starts(req.id, lead_a)
    assert start not in starts and start + timedelta(hours=1) in starts


def test_two_confirms_at_once_make_one_booking(app, ctx):
    a, _b, req, lead_a, _lead_b = _two_quotes()
    start = _tomorrow_10()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def confirm(offset: int) -> None:
        with app.app_context():
            barrier.wait(30)
            try:
                with unit_of_work():
                    outcomes.append(confirm_quote(req.id, lead_a, start + timedelta(hours=offset), ACTOR).id)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                outcomes.append(exc)

    threads = [threading.Thread(target=confirm, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 2 and outcomes[0] == outcomes[1], outcomes
    with tenant_scope(a.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1


def test_rejecting_a_quote_loses_it_with_the_reason_audited(ctx):
    a, _b, req, lead_a, lead_b = _two_quotes()
    with unit_of_work():
        reject_quote(req.id, lead_b, "Too expensive for me", ACTOR)
    assert _status(Lead, lead_b, _b.tenant_id) == "lost"
    with platform_scope("test"):
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "lead.rejected"))
    assert entry.reason == "Too expensive for me" and entry.tenant_id == _b.tenant_id
    with pytest.raises(DecisionRefused), unit_of_work():
        confirm_quote(req.id, lead_b, _tomorrow_10(), ACTOR)
    with unit_of_work():
        confirm_quote(req.id, lead_a, _tomorrow_10(), ACTOR)
    assert _status(Lead, lead_a, a.tenant_id) == "won"


def test_an_unquoted_claim_cannot_be_confirmed(ctx):
    a = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    make_user("cara@example.test")
    req = make_request()
    lead = make_lead(a.tenant_id, req.id, status="claimed")
    with pytest.raises(DecisionRefused, match="no longer be confirmed"), unit_of_work():
        confirm_quote(req.id, lead, _tomorrow_10(), ACTOR)
