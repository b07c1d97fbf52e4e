"""After the visit the customer hears from the business: a thank-you with a "book again" link
when the booking is completed, a polite note with the policy when it is recorded as a no-show
— guests by email, account holders per their preferences."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import Actor, transition
from app.extensions import db
from app.notifications import preferences
from app.tenants.context import tenant_scope
from tests.support.conftest_mail import html_of, subject_of, text_of
from tests.support.notification_support import ALICE_EMAIL, alice, bella, book, day_at, deliver_all, notifications_of

pytestmark = pytest.mark.integration

GUEST = "guest@example.com"


def _act(biz, booking_id: uuid.UUID, action: str, start) -> None:
    with tenant_scope(biz.tenant_id):
        b = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
        transition(b, action, Actor("staff"), now=start + timedelta(hours=1))
        db.session.commit()


def test_a_guest_gets_a_thank_you_with_a_book_again_link_and_no_calendar_file(ctx, mailbox):
    biz = bella()
    start = day_at(3, 10)
    booking_id = book(biz, start, email=GUEST)
    deliver_all(ctx)
    _act(biz, booking_id, "complete", start)
    deliver_all(ctx)
    [thanks] = mailbox.to(GUEST, "How was Haircut?")
    assert subject_of(thanks) == "How was Haircut? Thank you for visiting Bella Hair Studio"
    text = text_of(thanks)
    assert f"Book again: http://bella.localhost:{ctx.config['PUBLIC_PORT']}/" in text
    assert "/manage/" not in text
    assert f"Leave a review (it takes under a minute):\r\nhttp://bella.localhost:{ctx.config['PUBLIC_PORT']}/review/" in text
    assert ">Book again<" in html_of(thanks) and ">Leave a review<" in html_of(thanks)
    assert not [p for p in thanks.walk() if p.get_content_type() == "text/calendar"]
    deliver_all(ctx)
    assert len(mailbox.to(GUEST, "How was Haircut?")) == 1


def test_a_no_show_gets_a_polite_note_with_the_policy(ctx, mailbox):
    biz = bella()
    start = day_at(3, 10)
    booking_id = book(biz, start, email=GUEST)
    deliver_all(ctx)
    _act(biz, booking_id, "no_show", start)
    deliver_all(ctx)
    [note] = mailbox.to(GUEST, "We missed you at Bella Hair Studio")
    text = text_of(note)
    assert "did not come to your Haircut booking" in text and "If this is a mistake" in text
    assert "please cancel it or let Bella Hair Studio know in advance" in text  # the policy
    assert "Book again:" in text


def test_an_account_holder_gets_them_per_preferences(ctx, mailbox):
    biz = bella()
    alice_id = alice()
    preferences.set_preference(alice_id, "booking_no_show", "email", False)
    db.session.commit()
    start, later = day_at(3, 10), day_at(4, 10)
    first, second = book(biz, start, user_id=alice_id), book(biz, later, user_id=alice_id)
    deliver_all(ctx)
    _act(biz, first, "complete", start)
    _act(biz, second, "no_show", later)
    deliver_all(ctx)
    assert len(mailbox.to(ALICE_EMAIL, "How was Haircut?")) == 1
    assert mailbox.to(ALICE_EMAIL, "We missed you") == []  # switched off: in the app only
    assert "booking_no_show" in [n.type for n in notifications_of(alice_id)]
