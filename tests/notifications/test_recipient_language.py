"""Emails and notifications go out in the recipient's language, not the sender's request.

A guest books on the storefront in Danish (``Accept-Language: da``) and gets Danish emails
with Danish dates, times and money; an English guest of the same business gets English; the
owner hears in the language of their account; a reminder sent later by the worker is in the
customer's language. All through the real outbox, RQ worker (one run for several
recipients) and SMTP catcher.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.booking.models import Booking, Customer
from app.catalog.models import Service
from app.extensions import db
from app.formatting import format_local
from app.identity.models import User
from app.notifications.center_models import Notification
from app.notifications.tasks import sweep_due_reminders
from app.outbox.relay import relay_outbox
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from
from tests.support.conftest_mail import html_of, run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"
CPH = ZoneInfo("Europe/Copenhagen")
DANISH = "da-DK,da;q=0.9,en;q=0.5"
ENGLISH = "en-GB,en;q=0.8"


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` Copenhagen time ``days`` days from today, as UTC."""
    day = datetime.now(CPH).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=CPH).astimezone(UTC)


@pytest.fixture
def bella(ctx):
    """Bella (Copenhagen, DKK, default language English) with one service, "Haircut" at
    649.00 kr., that the business also named in Danish ("Dameklip")."""
    biz = make_business("bella", services=[("Haircut", 60, 64900)])
    with tenant_scope(biz.tenant_id):
        service = db.session.scalar(sa.select(Service).where(Service.id == biz.service_ids[0]))
        service.translations = {"da": {"name": "Dameklip", "description": "Vask, klip og føn."}}
        db.session.commit()
    return biz


def book_on_storefront(client, biz, start: datetime, email: str, language: str) -> None:
    """Book ``start`` as a guest through the storefront's confirm step, the browser reading ``language``."""
    headers = {"Accept-Language": language}
    token = csrf_from(client.get("/", base_url=BELLA, headers=headers).data)
    data = {"csrf_token": token, "staff": "any", "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tz": "Europe/Copenhagen", "name": "Guest " + email.split("@")[0], "email": email,
            "phone": "+45 20 30 40 50", "notes": "", "action": "confirm"}
    response = client.post(f"/book/{biz.service_ids[0]}/confirm", base_url=BELLA, data=data, headers=headers)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def in_locale(locale: str, dt: datetime, fmt: str) -> str:
    """``dt`` in Copenhagen as a reader of ``locale`` sees it (the filters' own formatting)."""
    with force_locale(locale):
        return format_local(dt, "Europe/Copenhagen", fmt)


def deliver(app) -> None:
    relay_outbox()
    assert run_jobs(app) == []


def only(mailbox, address: str):
    [message] = mailbox.to(address)
    return message


def test_danish_guest_gets_danish_email_and_english_guest_english_in_one_worker_run(client, ctx, bella, mailbox):
    danish_start, english_start = at(3, 14, 30), at(3, 10)
    book_on_storefront(client, bella, danish_start, "mette@example.dk", DANISH)
    book_on_storefront(client, bella, english_start, "ann@example.com", ENGLISH)
    with tenant_scope(bella.tenant_id):
        locales = dict(db.session.execute(sa.select(Customer.email, Customer.locale)).all())
        assert sorted(db.session.scalars(sa.select(Booking.locale))) == ["da_DK", "en_GB"]
    assert locales == {"mette@example.dk": "da_DK", "ann@example.com": "en_GB"}

    deliver(ctx)  # both confirmations in one worker run, Danish first

    danish = only(mailbox, "mette@example.dk")
    assert subject_of(danish).startswith("Booking bekræftet: Dameklip ")
    day = in_locale("da_DK", danish_start, "%A %-d %B")
    assert re.fullmatch(r"[a-zæøå]+dag \d{1,2}\. [a-zæøå]+", day)  # e.g. "tirsdag 24. november"
    for body in (text_of(danish), html_of(danish)):
        assert "Hej Guest mette" in body and "Din booking er bekræftet" in body
        assert day in body and "14.30" in body  # Danish date and 24-hour clock with a dot
        assert "649,00\xa0kr." in body or "649,00 kr." in body
        assert "Dameklip" in body and "Hvornår" in body
        for english in ("Hello", "Your booking", "When", "Price", "Haircut", "View, reschedule"):
            assert english not in body
    assert '<html lang="da-DK">' in html_of(danish)

    english = only(mailbox, "ann@example.com")
    assert subject_of(english).startswith("Booking confirmed: Haircut ")
    for body in (text_of(english), html_of(english)):
        assert "Hello Guest ann" in body and "Your booking is confirmed" in body
        assert in_locale("en_GB", english_start, "%-d %B %Y") in body and "10:00" in body
        assert "Haircut" in body and "Dameklip" not in body and "Hej" not in body


def test_the_owner_hears_in_their_own_language_whatever_the_customer_speaks(client, ctx, bella, mailbox):
    with platform_scope("test: the owner chose Danish"):
        db.session.scalar(sa.select(User).where(User.email == bella.owner_email)).locale = "da"
        db.session.commit()
    start = at(4, 11)
    book_on_storefront(client, bella, start, "ann@example.com", ENGLISH)

    deliver(ctx)

    assert subject_of(only(mailbox, "ann@example.com")).startswith("Booking confirmed: Haircut")
    owner_mail = only(mailbox, bella.owner_email)
    assert subject_of(owner_mail).startswith("Ny booking: Dameklip med Guest ann ")
    text = text_of(owner_mail)
    assert "Kunde:" in text and "Åbn bookingen:" in text and "Customer:" not in text
    assert in_locale("da", start, "%A %-d %B") in text and "11.00" in text
    with platform_scope("test: read the owner's notification"):
        owner_id = db.session.scalar(sa.select(User.id).where(User.email == bella.owner_email))
        titles = list(db.session.scalars(sa.select(Notification.body).where(Notification.user_id == owner_id)))
    assert len(titles) == 1 and titles[0].startswith("Guest ann har booket Dameklip hos Staff ")


def test_a_reminder_sent_later_by_the_worker_is_in_the_customers_language(client, ctx, bella, mailbox):
    start = at(2, 15)
    book_on_storefront(client, bella, start, "mette@example.dk", DANISH)
    book_on_storefront(client, bella, start, "ann@example.com", ENGLISH)
    deliver(ctx)
    mailbox.messages.clear()

    assert sweep_due_reminders(now=start - timedelta(hours=23)) == 2  # the worker's sweep, a day later

    danish = only(mailbox, "mette@example.dk")
    assert subject_of(danish).startswith("Påmindelse: Dameklip hos Bella ")
    assert "15.00" in text_of(danish) and "Vi ses snart" in text_of(danish)
    english = only(mailbox, "ann@example.com")
    assert subject_of(english).startswith("Reminder: Haircut at Bella ")
    assert "See you soon" in text_of(english) and "Vi ses" not in text_of(english)


def test_a_guest_without_a_recorded_language_hears_in_the_business_default(client, ctx, bella, mailbox):
    with platform_scope("test: Bella speaks Danish"):
        db.session.execute(sa.text("update tenant set default_locale = 'da' where slug = 'bella'"))
        db.session.commit()
    book_on_storefront(client, bella, at(5, 9), "ann@example.com", "fr-FR,fr;q=0.9")  # a language Plaza lacks
    deliver(ctx)
    assert subject_of(only(mailbox, "ann@example.com")).startswith("Booking bekræftet: Dameklip")


def test_a_booking_made_outside_a_request_speaks_the_given_language_else_the_business_default(ctx, bella, mailbox):
    from app.booking.service import CustomerInput, create_booking
    from app.tenants.models import Tenant

    with tenant_scope(bella.tenant_id):
        create_booking(db.session.get(Tenant, bella.tenant_id), service_id=bella.service_ids[0],
                       staff_id=bella.staff_ids[0], start=at(6, 13),
                       customer=CustomerInput("Ole", "ole@example.dk", locale="da"),
                       customer_timezone="Europe/Copenhagen")
        create_booking(db.session.get(Tenant, bella.tenant_id), service_id=bella.service_ids[0],
                       staff_id=bella.staff_ids[1], start=at(6, 13), customer=CustomerInput("Bo", "bo@example.com"),
                       customer_timezone="Europe/Copenhagen")
        db.session.commit()
    deliver(ctx)
    assert subject_of(only(mailbox, "ole@example.dk")).startswith("Booking bekræftet: Dameklip")
    assert subject_of(only(mailbox, "bo@example.com")).startswith("Booking confirmed: Haircut")
