"""The daily agenda: opt-in, each morning in the business's time zone, the member's bookings of
the day, once per day, none for an empty day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.identity.models import User
from app.notifications import preferences
from app.notifications.agenda import send_daily_agendas
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from tests.factories import make_user
from tests.support.conftest_mail import run_jobs, subject_of, text_of
from tests.support.notification_support import CPH, bella, book, day_at, deliver_all

pytestmark = pytest.mark.integration


def _member(biz, email: str, staff_index: int, opt_in: bool):
    uid = make_user(email, name=email.split("@")[0])
    with tenant_scope(biz.tenant_id):
        add_membership(db.session.get(User, uid), Role.STAFF, biz.staff_ids[staff_index])
        db.session.commit()
    if opt_in:
        preferences.set_preference(uid, "daily_agenda", "email", True)
        db.session.commit()
    return uid


def test_the_agenda_is_opt_in_sent_once_each_morning_and_never_for_an_empty_day(ctx, mailbox):
    biz = bella()
    _member(biz, "ann@bella.test", 0, opt_in=True)
    _member(biz, "ben@bella.test", 1, opt_in=True)  # no bookings that day
    _member(biz, "cat@bella.test", 0, opt_in=False)  # did not ask (the default is off)
    book(biz, day_at(2, 10), email="guest1@example.com")
    book(biz, day_at(2, 14), email="guest2@example.com")
    book(biz, day_at(3, 9), email="guest3@example.com")  # another day
    deliver_all(ctx)
    assert mailbox.to("ann@bella.test", "Your day") == []

    morning = day_at(2, 7) + timedelta(minutes=5)  # 07:05 in Copenhagen, the business's zone
    assert send_daily_agendas(morning - timedelta(hours=1)) == 0  # 06:05: too early
    assert send_daily_agendas(morning) == 1
    assert send_daily_agendas(morning + timedelta(minutes=1)) == 0  # once a day
    assert run_jobs(ctx) == []
    [agenda] = mailbox.to("ann@bella.test", "Your day")
    assert subject_of(agenda) == "Your day at Bella Hair Studio: 2 bookings"
    text = text_of(agenda)
    text = text.replace("\u202f", " ")  # the 12-hour clock's narrow space, as some mail readers show it
    assert "10:00 AM–11:00 AM Haircut with Alice Andersen" in text  # English: the business's language
    assert "2:00 PM–3:00 PM Haircut" in text
    assert "9:00 AM–" not in text  # only that day's
    assert f"/dashboard/?view=day&date={day_at(2, 7).astimezone(CPH).date().isoformat()}" in text
    assert mailbox.to("ben@bella.test", "Your day") == [] and mailbox.to("cat@bella.test", "Your day") == []

    # The next morning, the next day's agenda.
    assert send_daily_agendas(morning + timedelta(days=1)) == 1
    assert run_jobs(ctx) == []
    assert len(mailbox.to("ann@bella.test", "Your day")) == 2
