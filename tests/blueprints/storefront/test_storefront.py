"""The customer storefront on a tenant host: browse, pick a slot in one's own zone, book, manage."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Booking, Customer
from app.catalog.models import Service
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business
from tests.helpers import csrf_from

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"
CPH = ZoneInfo("Europe/Copenhagen")


def local_start(days: int, hh: int, mm: int = 0, tz: ZoneInfo = CPH) -> datetime:
    """UTC instant of ``hh:mm`` local time ``days`` days from today in ``tz``."""
    day = datetime.now(tz).date() + timedelta(days=days)
    return datetime.combine(day, time(hh, mm), tzinfo=tz).astimezone(UTC)


def z(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def get(client, url: str, **kw):
    return client.get(url, base_url=BASE, **kw)


def post(client, url: str, data: dict, **kw):
    return client.post(url, base_url=BASE, data=data, **kw)


def token_for(client) -> str:
    return csrf_from(get(client, "/").data)


def details_data(client, staff: str, start: datetime, tz: str = "Europe/Copenhagen", **over) -> dict:
    data = {"csrf_token": token_for(client), "staff": staff, "start": z(start), "tz": tz, "name": "Ann Customer",
            "email": "ann@example.com", "phone": "+45 20 30 40 50", "notes": "First visit"}
    data.update(over)
    return data


def book(client, biz, start: datetime, staff: str = "any", **over):
    """POST the confirm step directly; returns the response."""
    data = details_data(client, staff, start, **over)
    data["action"] = "confirm"
    return post(client, f"/book/{biz.service_ids[0]}/confirm", data)


def manage_token_of(resp) -> str:
    m = re.search(r"/manage/([A-Za-z0-9_.\-]+)", resp.get_data(as_text=True))
    assert m, "no manage link"
    return m.group(1)


def bookings(biz) -> list[Booking]:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        return list(db.session.scalars(sa.select(Booking).order_by(Booking.starts_at)))


def all_counts() -> tuple[int, int]:
    db.session.rollback()
    with platform_scope("test: count"):
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Booking)),
                db.session.scalar(sa.select(sa.func.count()).select_from(Customer)))


def starts_on_page(html: str) -> list[datetime]:
    return [datetime.fromisoformat(s) for s in re.findall(r'data-start="([^"]+)"', html)]


@pytest.fixture
def biz(ctx):
    return make_business("bella", staff=1, cancellation_cutoff_hours=1)


# --------------------------------------------------------------------------- browsing


def test_home_shows_business_services_and_team(client, ctx):
    b = make_business("bella", staff=2, services=[("Haircut", 60, 50000), ("Beard trim", 20, 19900)])
    with tenant_scope(b.tenant_id):
        svc = db.session.scalar(sa.select(Service).where(Service.id == b.service_ids[1]))
        svc.category, svc.description = "Grooming", "Shape-up with a hot towel."
        db.session.commit()
    html = get(client, "/").get_data(as_text=True)
    assert "Bella" in html and "Europe/Copenhagen" in html
    assert "Haircut" in html and "1 h" in html and "500,00\xa0kr." in html
    assert "Grooming" in html and "Shape-up with a hot towel." in html and "20 min" in html
    assert "Staff 1" in html and "Staff 2" in html
    assert f"/book/{b.service_ids[0]}" in html


def test_staff_step_offers_anyone_and_performers(client, ctx):
    b = make_business("bella", staff=2)
    html = get(client, f"/book/{b.service_ids[0]}").get_data(as_text=True)
    assert "Anyone available" in html
    for sid in b.staff_ids:
        assert f"staff={sid}" in html


# --------------------------------------------------------------------------- full booking


def test_full_booking_through_plain_forms(client, biz):
    sid = biz.service_ids[0]
    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=2)).date()
    page = get(client, f"/book/{sid}/slots?staff=any&date={day}&tz=America/New_York")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Times in <strong data-customer-tz>America/New_York</strong> · business is in Europe/Copenhagen" in html
    starts = starts_on_page(html)
    # Copenhagen 09:00-17:00 shown in New York: 03:00 to 10:00/11:00 local, on the chosen NY date.
    first = starts[0].astimezone(ZoneInfo("America/New_York"))
    assert first.date() == day and first.hour in (3, 4)
    assert f">{first.strftime('%H:%M')}<" in html

    link = re.search(r'<a href="(/book/[^"]+/details\?[^"]+)" data-start', html).group(1).replace("&amp;", "&")
    form = get(client, link)
    assert form.status_code == 200 and "Your details" in form.get_data(as_text=True)
    q = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
    data = {"csrf_token": csrf_from(form.data), **q, "name": "Ann Customer", "email": "Ann@Example.com",
            "phone": "20 30 40 50", "notes": "First visit"}
    review = post(client, f"/book/{sid}/details", data)
    text = review.get_data(as_text=True)
    assert review.status_code == 200 and "Confirm booking" in text
    assert "+4520304050" in text and "500,00\xa0kr." in text and "business is in Europe/Copenhagen" in text
    assert all_counts() == (0, 0)

    done = post(client, f"/book/{sid}/confirm", {**data, "phone": "+4520304050", "action": "confirm"})
    assert done.status_code == 303
    page = client.get(done.headers["Location"], base_url=BASE)
    text = page.get_data(as_text=True)
    assert "confirmed" in text and "You're booked" in text
    assert "America/New_York" in text and "Europe/Copenhagen" in text
    assert first.strftime("%H:%M") in text
    assert f"http://bella.localhost:{client.application.config['PUBLIC_PORT']}/manage/{manage_token_of(page)}" in text

    [booking] = bookings(biz)
    assert booking.status == "confirmed" and booking.starts_at == starts[0]
    assert booking.customer_timezone == "America/New_York" and booking.notes == "First visit"
    assert booking.price_amount == 50000 and booking.staff_id == biz.staff_ids[0]
    with tenant_scope(biz.tenant_id):
        customer = db.session.scalar(sa.select(Customer).where(Customer.id == booking.customer_id))
        assert (customer.email, customer.phone, customer.name) == ("ann@example.com", "+4520304050", "Ann Customer")


def test_edit_from_confirm_page_keeps_values(client, biz):
    data = details_data(client, "any", local_start(2, 10), action="edit")
    resp = post(client, f"/book/{biz.service_ids[0]}/confirm", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Your details" in html
    assert 'value="ann@example.com"' in html and "First visit" in html
    assert all_counts() == (0, 0)


def test_pending_when_business_confirms_by_hand(client, ctx):
    b = make_business("bella", staff=1, requires_confirmation=True)
    resp = book(client, b, local_start(2, 11))
    assert resp.status_code == 303
    text = client.get(resp.headers["Location"], base_url=BASE).get_data(as_text=True)
    assert "Waiting for confirmation</span>" in text and "Bella confirms bookings by hand" in text
    assert "pending pending" not in text.lower() and "pending: " not in text
    assert [x.status for x in bookings(b)] == ["pending"]


# --------------------------------------------------------------------------- the slot picker


def test_htmx_request_gets_only_the_picker_block(client, biz):
    resp = get(client, f"/book/{biz.service_ids[0]}/slots?staff=any&tz=Europe/Copenhagen",
               headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in html and "<header" not in html
    assert html.lstrip().startswith('<div id="picker"') and "data-start" in html
    assert "HX-Request" in resp.headers.get("Vary", "")
    full = get(client, f"/book/{biz.service_ids[0]}/slots?staff=any&tz=Europe/Copenhagen").get_data(as_text=True)
    assert "<html" in full


def test_slots_are_grouped_by_the_customers_local_date(client, biz):
    auckland = ZoneInfo("Pacific/Auckland")
    day = datetime.now(auckland).date() + timedelta(days=3)
    html = get(client, f"/book/{biz.service_ids[0]}/slots?staff=any&date={day}&tz=Pacific/Auckland").get_data(
        as_text=True)
    local = [s.astimezone(auckland) for s in starts_on_page(html)]
    assert local and {d.date() for d in local} == {day}
    # Early morning slots come from the business's previous day, evening ones from the same day.
    assert min(d.hour for d in local) < 6 and max(d.hour for d in local) >= 19
    assert "Times in <strong data-customer-tz>Pacific/Auckland</strong>" in html


def test_staff_filter_and_anyone(client, ctx):
    b = make_business("bella", staff=2)
    resp = get(client, f"/book/{b.service_ids[0]}/slots?staff={b.staff_ids[1]}&tz=Europe/Copenhagen")
    assert resp.status_code == 200 and f"staff={b.staff_ids[1]}" in resp.get_data(as_text=True)
    assert get(client, f"/book/{b.service_ids[0]}/slots?staff=nobody").status_code == 404
    assert get(client, f"/book/{b.service_ids[0]}/slots?staff={uuid.uuid4()}").status_code == 404


def test_missing_tz_asks_the_browser(client, biz):
    html = get(client, f"/book/{biz.service_ids[0]}/slots?staff=any").get_data(as_text=True)
    assert "data-tz-redirect" in html and "Times in <strong data-customer-tz>Europe/Copenhagen</strong>" in html


def test_unknown_time_zone_is_an_inline_error_and_falls_back(client, biz):
    resp = get(client, f"/book/{biz.service_ids[0]}/slots?staff=any&tz=Mars/Olympus_Mons")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "know the time zone" in html and "Mars/Olympus_Mons" in html
    assert "Times in <strong data-customer-tz>Europe/Copenhagen</strong>" in html and "data-start" in html


@pytest.mark.parametrize("bad", ["2026-13-45", "tomorrow", "1999-01-01", "2999-01-01"])
def test_bad_date_is_an_inline_error(client, biz, bad):
    resp = get(client, f"/book/{biz.service_ids[0]}/slots?staff=any&date={bad}&tz=Europe/Copenhagen")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'class="error sf-inline-error"' in html and "data-start" in html


# --------------------------------------------------------------------------- bad input


def test_invalid_details_are_422_with_values_kept(client, biz):
    data = details_data(client, "any", local_start(2, 10), name="", email="not-an-email", phone="12",
                        notes="x" * 2001)
    resp = post(client, f"/book/{biz.service_ids[0]}/details", data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Enter your name." in html
    assert "Enter a valid email address" in html and 'value="not-an-email"' in html
    assert "phone number" in html and 'value="12"' in html
    assert "Keep notes under 2000 characters." in html
    assert all_counts() == (0, 0)


def test_tampered_confirm_is_422_and_writes_nothing(client, biz):
    data = details_data(client, "any", local_start(2, 10), phone="+45 1", action="confirm")
    resp = post(client, f"/book/{biz.service_ids[0]}/confirm", data)
    assert resp.status_code == 422 and "valid phone number" in resp.get_data(as_text=True)
    assert all_counts() == (0, 0)


def test_national_phone_needs_country_code_when_zone_has_no_country(client, ctx):
    b = make_business("bella", timezone="UTC", staff=1)
    day = datetime.now(UTC).date() + timedelta(days=2)
    start = datetime.combine(day, time(10), tzinfo=UTC)
    resp = post(client, f"/book/{b.service_ids[0]}/details", details_data(client, "any", start, phone="20304050"))
    assert resp.status_code == 422 and "country code" in resp.get_data(as_text=True)
    ok = post(client, f"/book/{b.service_ids[0]}/details", details_data(client, "any", start, phone="+1 212 555 0199"))
    assert ok.status_code == 200 and "+12125550199" in ok.get_data(as_text=True)


def test_new_york_business_reads_national_numbers_as_us(client, ctx):
    b = make_business("bella", timezone="America/New_York", currency="USD", staff=1)
    start = local_start(2, 10, tz=ZoneInfo("America/New_York"))
    resp = post(client, f"/book/{b.service_ids[0]}/details",
                details_data(client, "any", start, tz="America/New_York", phone="(212) 555-0199"))
    assert resp.status_code == 200 and "+12125550199" in resp.get_data(as_text=True)


@pytest.mark.parametrize("start", ["yesterday", "past", "night", "garbage"])
def test_unbookable_start_reshows_the_slot_step(client, biz, start):
    value = {"yesterday": z(local_start(-1, 10)), "past": z(datetime.now(UTC) - timedelta(minutes=5)),
             "night": z(local_start(2, 3)), "garbage": "2026-02-30T99:00"}[start]
    resp = get(client, f"/book/{biz.service_ids[0]}/details?staff=any&start={value}&tz=Europe/Copenhagen")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Choose a time" in html
    if start == "night":
        assert "This is not a bookable time: it is outside opening hours" in html
        assert "just taken" not in html and "no longer available" not in html
        assert len(re.findall(r'class="sf-alt" href="/book/', html)) >= 1
    assert all_counts() == (0, 0)


def test_same_slot_twice_second_gets_422_with_alternatives(client, biz):
    start = local_start(2, 10)
    first = book(client, biz, start, staff=str(biz.staff_ids[0]))
    assert first.status_code == 303
    second = book(client, biz, start, staff=str(biz.staff_ids[0]), email="bob@example.com", name="Bob")
    html = second.get_data(as_text=True)
    assert second.status_code == 422
    assert "This time is no longer available: someone else has just booked it." in html
    alts = re.findall(r'class="sf-alt" href="([^"]+)"', html)
    assert alts and all("/details?" in a for a in alts)
    assert z(start + timedelta(hours=1)) in html.replace("%3A", ":")  # the next free hour is offered
    assert [b.starts_at for b in bookings(biz)] == [start]
    assert all_counts() == (1, 1)


def test_another_tenants_service_is_404_and_writes_nothing(client, ctx):
    make_business("bella", staff=1)
    other = make_business("fixit", timezone="America/New_York", currency="USD", staff=1)
    sid = other.service_ids[0]
    for url in (f"/book/{sid}", f"/book/{sid}/slots?staff=any", f"/book/{sid}/details?staff=any",
                f"/book/{uuid.uuid4()}", "/book/not-a-uuid"):
        assert get(client, url).status_code == 404, url
    resp = book(client, other, local_start(2, 10, tz=ZoneInfo("America/New_York")))
    assert resp.status_code == 404
    assert all_counts() == (0, 0)


def test_inactive_service_and_foreign_staff_are_404(client, ctx):
    b = make_business("bella", staff=1)
    other = make_business("fixit", staff=1)
    assert get(client, f"/book/{b.service_ids[0]}/slots?staff={other.staff_ids[0]}").status_code == 404
    with tenant_scope(b.tenant_id):
        db.session.scalar(sa.select(Service).where(Service.id == b.service_ids[0])).active = False
        db.session.commit()
    assert get(client, f"/book/{b.service_ids[0]}").status_code == 404
    assert book(client, b, local_start(2, 10)).status_code == 404


# --------------------------------------------------------------------------- manage link


def booked_token(client, biz, start: datetime) -> str:
    resp = book(client, biz, start)
    assert resp.status_code == 303
    return resp.headers["Location"].rsplit("/", 1)[1]


def test_manage_cancel_with_reason(client, biz):
    token = booked_token(client, biz, local_start(2, 10))
    page = get(client, f"/manage/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Cancel booking" in html and "Pick a new time" in html
    resp = post(client, f"/manage/{token}/cancel", {"csrf_token": csrf_from(page.data), "reason": "Sick kid"})
    assert resp.status_code == 303
    html = get(client, f"/manage/{token}").get_data(as_text=True)
    assert "cancelled" in html and "Sick kid" in html and "Cancel booking" not in html
    [b] = bookings(biz)
    assert (b.status, b.cancel_reason, b.cancelled_by) == ("cancelled", "Sick kid", "customer")


def test_manage_cancel_reason_too_long_is_422(client, biz):
    token = booked_token(client, biz, local_start(2, 10))
    page = get(client, f"/manage/{token}")
    resp = post(client, f"/manage/{token}/cancel", {"csrf_token": csrf_from(page.data), "reason": "x" * 501})
    assert resp.status_code == 422 and "under 500 characters" in resp.get_data(as_text=True)
    assert [b.status for b in bookings(biz)] == ["confirmed"]


def test_manage_reschedule(client, biz):
    token = booked_token(client, biz, local_start(2, 10))
    new = local_start(3, 14)
    page = get(client, f"/manage/{token}/reschedule?tz=Europe/Copenhagen&date={new.astimezone(CPH).date()}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Pick a new time" in html
    assert z(new) in html  # offered as a button on the picker
    resp = post(client, f"/manage/{token}/reschedule", {"csrf_token": csrf_from(page.data), "start": z(new),
                                                         "tz": "Europe/Copenhagen"})
    assert resp.status_code == 303
    assert [b.starts_at for b in bookings(biz)] == [new]
    html = client.get(resp.headers["Location"], base_url=BASE).get_data(as_text=True)
    assert "Your booking was moved" in html and new.astimezone(CPH).strftime("%H:%M") in html


def test_reschedule_onto_a_taken_time_shows_alternatives(client, biz):
    token = booked_token(client, biz, local_start(2, 10))
    taken = local_start(3, 12)
    assert book(client, biz, taken, email="bob@example.com").status_code == 303
    page = get(client, f"/manage/{token}/reschedule")
    resp = post(client, f"/manage/{token}/reschedule", {"csrf_token": csrf_from(page.data), "start": z(taken)})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "This time is no longer available" in html
    alts = re.findall(r'class="sf-alt" href="([^"]+)"', html)  # each next free time leads to the question
    assert alts and all("/reschedule/confirm?" in a for a in alts)
    assert [b.starts_at for b in bookings(biz)] == [local_start(2, 10), taken]


def test_cutoff_hides_buttons_and_refuses_changes(client, ctx):
    b = make_business("bella", staff=1, cancellation_cutoff_hours=72)
    token = booked_token(client, b, local_start(2, 10))
    page = get(client, f"/manage/{token}")
    html = page.get_data(as_text=True)
    assert "Cancel booking" not in html and "Pick a new time" not in html
    # Says the cut-off has passed (when, in the customer's zone) instead of promising changes.
    deadline = (local_start(2, 10) - timedelta(hours=72)).astimezone(CPH).strftime("%A %-d %B at %H:%M")
    assert f"Online changes closed on {deadline}. To cancel or move this booking now, please contact Bella." in html
    assert "You can cancel" not in html
    assert get(client, f"/manage/{token}/cancel").status_code == 409
    csrf = csrf_from(page.data)
    refused = post(client, f"/manage/{token}/cancel", {"csrf_token": csrf, "reason": ""})
    assert refused.status_code == 409 and "Please contact the business" in refused.get_data(as_text=True)
    moved = post(client, f"/manage/{token}/reschedule", {"csrf_token": csrf, "start": z(local_start(4, 10))})
    assert moved.status_code == 409
    assert get(client, f"/manage/{token}/reschedule").status_code == 409
    assert [(x.status, x.starts_at) for x in bookings(b)] == [("confirmed", local_start(2, 10))]


def test_manage_token_garbage_or_other_tenant_is_404(client, biz):
    make_business("fixit", staff=1)
    token = booked_token(client, biz, local_start(2, 10))
    assert get(client, "/manage/garbage").status_code == 404
    assert get(client, f"/manage/{token[:-3]}xyz").status_code == 404
    assert client.get(f"/manage/{token}", base_url="http://fixit.localhost").status_code == 404
    assert client.get(f"/booked/{token}", base_url="http://fixit.localhost").status_code == 404
    assert get(client, f"/manage/{token}").status_code == 200

