"""Owners and managers hear about bookings by email (and the other channels) per their
preferences: new bookings, requests (with reminders while they wait), customers' cancellations
and moves. The owner confirms a request from the email's link."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import Actor, cancel_by_customer, reschedule_booking, transition
from app.extensions import db
from app.identity.models import User
from app.notifications import preferences
from app.notifications.waiting import sweep_waiting_requests
from app.tenants.context import tenant_scope
from app.tenants.models import Role, Tenant
from app.tenants.service import add_membership
from app.timeutil import utcnow
from tests.factories import make_user
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs, subject_of, text_of
from tests.support.notification_support import bella, book, day_at, deliver_all, deliveries_of

pytestmark = pytest.mark.integration

GUEST = "guest@example.com"


def _user_id(email: str) -> uuid.UUID:
    return db.session.scalar(sa.select(User.id).where(User.email == email))


def _status(biz, booking_id: uuid.UUID) -> str:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        status = db.session.scalar(sa.select(Booking.status).where(Booking.id == booking_id))
        db.session.commit()
    return status


def _age(biz, booking_id: uuid.UUID, age: timedelta) -> None:
    """Make the booking look as if it had been made ``age`` ago."""
    with tenant_scope(biz.tenant_id):
        db.session.execute(sa.update(Booking).where(Booking.id == booking_id)
                           .values(created_at=sa.func.now() - age))
        db.session.commit()


def test_owner_gets_a_request_by_email_follows_the_link_and_confirms(ctx, client, mailbox):
    biz = bella(requires_confirmation=True)
    booking_id = book(biz, day_at(5, 9), email=GUEST)
    deliver_all(ctx)

    [notice] = mailbox.to(biz.owner_email)
    assert subject_of(notice).startswith("New booking request: Haircut with Alice Andersen")
    text = text_of(notice)
    assert "within 48 hours" in text
    port = ctx.config["PUBLIC_PORT"]
    link = re.search(rf"http://bella\.localhost:{port}/dashboard/bookings/\S+", text).group(0)
    assert link.endswith(f"/dashboard/bookings/{booking_id}")  # built from configuration, to this booking
    assert f'href="{link}"' in notice.get_body(("html",)).get_content()

    host = "bella.localhost"
    login_as(client, biz.owner_email, host)
    page = client.get(urlsplit(link).path, base_url=f"http://{host}")
    assert page.status_code == 200 and "Alice Andersen" in page.text
    resp = client.post(f"{urlsplit(link).path}/action", base_url=f"http://{host}",
                       data={"csrf_token": csrf_from(page.data), "action": "confirm", "back": "detail"})
    assert resp.status_code in (302, 303)
    assert _status(biz, booking_id) == "confirmed"
    deliver_all(ctx)
    assert [subject_of(m).split(":")[0] for m in mailbox.to(GUEST)] == ["Booking request received",
                                                                       "Booking confirmed"]
    assert len(mailbox.to(biz.owner_email)) == 1  # the owner confirmed it: no notice about their own act


def test_owners_and_managers_hear_of_new_bookings_customer_cancellations_and_moves_by_email(ctx, mailbox):
    biz = bella()
    manager = make_user("manager@bella.test", name="Mia Manager")
    with tenant_scope(biz.tenant_id):
        add_membership(db.session.get(User, manager), Role.MANAGER)
        db.session.commit()
    booking_id = book(biz, day_at(3, 10), email=GUEST)
    deliver_all(ctx)
    for address in (biz.owner_email, "manager@bella.test"):
        [new] = mailbox.to(address)
        assert subject_of(new).startswith("New booking: Haircut with Alice Andersen")
        assert f"/dashboard/bookings/{booking_id}" in text_of(new)

    tenant = db.session.get(Tenant, biz.tenant_id)
    other = book(biz, day_at(5, 10), email="other@example.com")
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):  # staff move a booking: the team sees it in the app, no email
        b = db.session.scalar(sa.select(Booking).where(Booking.id == other))
        reschedule_booking(tenant, b, day_at(5, 12), Actor("staff"))
        db.session.commit()
    deliver_all(ctx)
    assert [subject_of(m).split(":")[0] for m in mailbox.to(biz.owner_email)] == ["New booking", "New booking"]
    with tenant_scope(biz.tenant_id):  # the customer moves it, then cancels
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        reschedule_booking(tenant, b, day_at(4, 14), Actor("customer"))
        db.session.commit()
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        cancel_by_customer(tenant, b, "Feeling unwell")
        db.session.commit()
    deliver_all(ctx)
    for address in (biz.owner_email, "manager@bella.test"):
        subjects = [subject_of(m).split(":")[0] for m in mailbox.to(address)]
        assert subjects == ["New booking", "New booking", "Booking moved by customer", "Booking cancelled by customer"]
    [moved] = mailbox.to(biz.owner_email, "Booking moved by customer")
    assert "(was " in text_of(moved)
    [cancelled] = mailbox.to(biz.owner_email, "Booking cancelled by customer")
    assert "Feeling unwell" in text_of(cancelled)


def test_an_owner_who_turns_booking_email_off_gets_none_but_still_sees_it_in_the_app(ctx, mailbox):
    biz = bella()
    owner = _user_id(biz.owner_email)
    preferences.set_preference(owner, "booking_confirmed", "email", False)
    db.session.commit()
    book(biz, day_at(3, 10), email=GUEST)
    deliver_all(ctx)
    assert mailbox.to(biz.owner_email) == []
    assert [d.channel for d in deliveries_of(owner)] == ["inapp", "push"]
    assert len(mailbox.to(GUEST)) == 1


def test_a_staff_member_with_an_account_gets_their_booking_once_through_their_notifications(ctx, mailbox):
    from app.catalog.models import StaffMember

    biz = bella()
    staff = make_user("s1@bella.test", name="Staff One")
    with tenant_scope(biz.tenant_id):
        add_membership(db.session.get(User, staff), Role.STAFF, biz.staff_ids[0])
        db.session.get(StaffMember, (biz.tenant_id, biz.staff_ids[0])).email = "s1@bella.test"  # profile too
        db.session.commit()
    book(biz, day_at(3, 10), email=GUEST)
    deliver_all(ctx)
    [notice] = mailbox.to("s1@bella.test")
    assert subject_of(notice).startswith("New booking: Haircut with Alice Andersen")


def test_a_request_left_waiting_reminds_the_team_at_24_hours_and_before_the_auto_cancel(ctx, mailbox):
    biz = bella(requires_confirmation=True)
    booking_id = book(biz, day_at(6, 9), email=GUEST)
    deliver_all(ctx)
    assert sweep_waiting_requests() == 0  # just made: nothing due
    _age(biz, booking_id, timedelta(hours=24, minutes=5))
    assert sweep_waiting_requests() == 1
    assert sweep_waiting_requests() == 0  # once
    assert run_jobs(ctx) == []
    [first] = mailbox.to(biz.owner_email, "Booking request waiting")
    assert "cancelled automatically on" in text_of(first)
    assert f"/dashboard/bookings/{booking_id}" in text_of(first)

    later = utcnow() + timedelta(hours=23, minutes=30)  # 47.5 hours after the request: the last call
    assert sweep_waiting_requests(later) == 1
    assert sweep_waiting_requests(later) == 0
    assert run_jobs(ctx) == []
    assert len(mailbox.to(biz.owner_email, "Booking request waiting")) == 2
    assert sweep_waiting_requests(later + timedelta(hours=1)) == 0  # expired by then: nothing more

    # Once confirmed, nobody is reminded any more.
    other = book(biz, day_at(7, 9), email=GUEST)
    deliver_all(ctx)
    _age(biz, other, timedelta(hours=25))
    with tenant_scope(biz.tenant_id):
        transition(db.session.scalar(sa.select(Booking).where(Booking.id == other)), "confirm", Actor("staff"))
        db.session.commit()
    assert sweep_waiting_requests() == 0


def test_the_owners_preferences_page_shows_what_they_get(ctx, client, mailbox):
    biz = bella(requires_confirmation=True)
    login_as(client, biz.owner_email)
    html = client.get("/notifications/preferences").data.decode()
    for label in ("Booking requested", "Booking request still waiting", "Booking confirmed",
                  "Booking cancelled by the customer", "Booking rescheduled"):
        assert f'aria-label="{label} by Email" checked' in html, label
    assert 'aria-label="Request expired by Email">' in html  # the team hears of it in the app only
    assert 'aria-label="Daily agenda: your bookings each morning by Email">' in html  # opt-in: off
    book(biz, day_at(5, 9), email=GUEST)
    deliver_all(ctx)
    assert len(mailbox.to(biz.owner_email, "New booking request")) == 1


def test_a_staff_member_without_an_account_is_emailed_when_a_customer_moves_their_booking(ctx, mailbox):
    from app.catalog.models import StaffMember

    biz = bella()
    with tenant_scope(biz.tenant_id):
        db.session.get(StaffMember, (biz.tenant_id, biz.staff_ids[0])).email = "staff1@bella.test"
        db.session.commit()
    booking_id = book(biz, day_at(3, 10), email=GUEST)
    deliver_all(ctx)
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        reschedule_booking(db.session.get(Tenant, biz.tenant_id), b, day_at(4, 14), Actor("customer"))
        db.session.commit()
    deliver_all(ctx)
    assert [subject_of(m).split(":")[0] for m in mailbox.to("staff1@bella.test")] == [
        "New booking", "Booking moved by customer"]
    [moved] = mailbox.to("staff1@bella.test", "Booking moved")
    assert "(was " in text_of(moved) and f"/dashboard/bookings/{booking_id}" in text_of(moved)
