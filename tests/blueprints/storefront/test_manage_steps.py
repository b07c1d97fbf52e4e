"""What the customer sees after booking: cancelling and moving each ask first (without
JavaScript, and in place over HTMX), every booking state reads right, the cut-off notice says
exactly what is still allowed, and the booking steps tell "taken" from "not a bookable time"
from "already yours"."""

from __future__ import annotations

import html as html_lib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.booking.service import booking_from_manage_token
from app.extensions import db
from app.tenants.context import tenant_scope
from tests.blueprints.storefront.test_storefront import (
    BASE,
    CPH,
    all_counts,
    book,
    booked_token,
    bookings,
    details_data,
    get,
    local_start,
    post,
    z,
)
from tests.factories import make_business
from tests.helpers import csrf_from

pytestmark = pytest.mark.integration


@pytest.fixture
def biz(ctx):
    return make_business("bella", staff=1, cancellation_cutoff_hours=24)


def set_status(biz, **values) -> None:
    """Put the tenant's only booking into a state directly (as staff or a job would)."""
    with tenant_scope(biz.tenant_id):
        db.session.execute(sa.update(Booking).values(**values))
        db.session.commit()


def booking_id_of(location: str, biz):
    """The id of the booking a ``/booked/<token>`` location shows."""
    with tenant_scope(biz.tenant_id):
        return booking_from_manage_token(location.rsplit("/", 1)[1]).id


# --------------------------------------------------------------------------- cancel asks first


def test_cancel_is_a_question_before_it_happens(client, biz):
    token = booked_token(client, biz, local_start(3, 10))
    html = get(client, f"/manage/{token}").get_data(as_text=True)
    # No form on the manage page cancels in one tap: the button leads to the question.
    assert f'action="/manage/{token}/cancel"' not in html
    assert f'href="/manage/{token}/cancel"' in html and "Cancel booking…" in html

    question = get(client, f"/manage/{token}/cancel")
    text = question.get_data(as_text=True)
    assert question.status_code == 200 and "Cancel this booking?" in text
    assert f'action="/manage/{token}/cancel"' in text and "Yes, cancel booking" in text
    assert f'href="/manage/{token}"' in text and "Keep my booking" in text
    assert re.search(r'<h2 id="confirm-cancel-title" tabindex="-1" autofocus>', text)  # focus goes to the question
    assert [b.status for b in bookings(biz)] == ["confirmed"]  # asking changed nothing

    done = post(client, f"/manage/{token}/cancel", {"csrf_token": csrf_from(text), "reason": "Flu"})
    assert done.status_code == 303
    after = get(client, f"/manage/{token}").get_data(as_text=True)
    assert "Cancelled</span>" in after and "This booking was cancelled by you." in after and "Flu" in after
    assert "Cancel booking" not in after and "You can cancel" not in after
    assert [b.status for b in bookings(biz)] == ["cancelled"]


def test_cancel_question_over_htmx_swaps_the_manage_block(client, biz):
    token = booked_token(client, biz, local_start(3, 10))
    resp = get(client, f"/manage/{token}/cancel", headers={"HX-Request": "true"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and text.lstrip().startswith('<section class="card sf-done sf-manage" id="manage">')
    assert "<html" not in text and "Cancel this booking?" in text and "autofocus" in text
    manage = get(client, f"/manage/{token}").get_data(as_text=True)
    assert f'hx-get="/manage/{token}/cancel" hx-target="#manage" hx-swap="outerHTML"' in manage


def test_a_bad_reason_keeps_the_question_open(client, biz):
    token = booked_token(client, biz, local_start(3, 10))
    page = get(client, f"/manage/{token}/cancel")
    resp = post(client, f"/manage/{token}/cancel", {"csrf_token": csrf_from(page.data), "reason": "x" * 501})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Cancel this booking?" in text and "under 500 characters" in text
    assert [b.status for b in bookings(biz)] == ["confirmed"]


# --------------------------------------------------------------------------- move asks first


def test_moving_is_a_question_before_it_happens(client, biz):
    old = local_start(3, 10)
    token = booked_token(client, biz, old)
    new = local_start(4, 14)
    picker = get(client, f"/manage/{token}/reschedule?tz=Europe/Copenhagen&date={new.astimezone(CPH).date()}")
    html = picker.get_data(as_text=True)
    assert picker.status_code == 200
    # The times are links to the question, not buttons that move the booking at once.
    assert f'name="start" value="{z(new)}"' not in html
    links = [a.replace("&amp;", "&") for a in re.findall(r'<a href="([^"]+)" data-start="' + z(new), html)]
    assert links and links[0].startswith(f"/manage/{token}/reschedule/confirm?")

    question = get(client, links[0])
    text = question.get_data(as_text=True)
    assert question.status_code == 200 and "Move this booking?" in text and "Yes, move it" in text
    assert old.astimezone(CPH).strftime("%-d %B, %H:%M") in text and new.astimezone(CPH).strftime("%-d %B, %H:%M") in text
    assert f'value="{z(new)}"' in text and f'action="/manage/{token}/reschedule"' in text
    assert [b.starts_at for b in bookings(biz)] == [old]  # asking changed nothing

    moved = post(client, f"/manage/{token}/reschedule", {"csrf_token": csrf_from(text), "start": z(new),
                                                         "tz": "Europe/Copenhagen"})
    assert moved.status_code == 303
    assert [b.starts_at for b in bookings(biz)] == [new]


def test_move_question_for_a_time_that_cannot_be_booked(client, biz):
    token = booked_token(client, biz, local_start(3, 10))
    off_grid = local_start(4, 10, 7)
    resp = get(client, f"/manage/{token}/reschedule/confirm?start={z(off_grid)}&tz=Europe/Copenhagen")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "This is not a bookable time" in text and "Move this booking?" not in text
    same = get(client, f"/manage/{token}/reschedule/confirm?start={z(local_start(3, 10))}")
    assert same.status_code == 422 and "That is the time you already have" in same.get_data(as_text=True)


# --------------------------------------------------------------------------- wording


def test_every_state_reads_right(client, biz):
    token = booked_token(client, biz, local_start(3, 10))

    def status_line() -> str:
        html = get(client, f"/manage/{token}").get_data(as_text=True)
        line = re.search(r'<p class="sf-status"[^>]*>(.*?)</p>', html, re.S).group(1)
        return html_lib.unescape(" ".join(re.sub(r"<[^>]+>", " ", line).split()))

    assert status_line() == "Confirmed Bella is expecting you."
    set_status(biz, status="pending")
    assert status_line() == "Waiting for confirmation Bella confirms bookings by hand. We'll email you as soon as they do."
    set_status(biz, status="completed")
    assert status_line() == "Completed This appointment took place. Thank you for visiting Bella."
    set_status(biz, status="no_show")
    assert status_line() == "Missed Bella marked this appointment as missed."
    set_status(biz, status="cancelled", cancelled_by="staff", cancel_reason="Stylist ill")
    assert status_line() == "Cancelled This booking was cancelled by Bella. Reason: “Stylist ill”"
    set_status(biz, status="awaiting_payment", cancelled_by=None, cancel_reason=None)
    assert status_line().startswith("Waiting for payment Complete the payment")


def test_the_notice_says_exactly_until_when_changes_are_allowed(client, biz):
    start = local_start(3, 10)
    token = booked_token(client, biz, start)
    deadline = (start - timedelta(hours=24)).astimezone(CPH).strftime("%A %-d %B at %H:%M")
    manage = get(client, f"/manage/{token}").get_data(as_text=True)
    assert f"You can cancel or move this booking online until {deadline}." in manage
    booked = get(client, f"/booked/{token}").get_data(as_text=True)
    assert f"You can cancel or move this booking online until {deadline}." in booked
    set_status(biz, status="completed")  # over: nothing to change, nothing promised
    manage = get(client, f"/manage/{token}").get_data(as_text=True)
    assert "online until" not in manage and "Online changes" not in manage


def test_booked_inside_the_cutoff_promises_nothing(client, ctx):
    b = make_business("bella", staff=1, cancellation_cutoff_hours=72)
    start = local_start(1, 12)
    token = booked_token(client, b, start)
    deadline = (start - timedelta(hours=72)).astimezone(CPH).strftime("%A %-d %B at %H:%M")
    text = get(client, f"/booked/{token}").get_data(as_text=True)
    assert "cancel or reschedule until" not in text and "You can cancel" not in text
    assert f"Online changes closed on {deadline}. To cancel or move this booking now, please contact Bella." in text


# --------------------------------------------------------------------------- why a time is refused


def test_off_grid_time_is_not_a_bookable_time_and_taken_is_no_longer_available(client, biz):
    off_grid = local_start(3, 10, 7)
    resp = get(client, f"/book/{biz.service_ids[0]}/details?staff=any&start={z(off_grid)}&tz=Europe/Copenhagen")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "This is not a bookable time" in text and "no longer available" not in text
    # Off the grid AND overlapping a booking: still "not a bookable time", not "taken".
    assert book(client, biz, local_start(3, 10), email="bob@example.com").status_code == 303
    other = client.application.test_client()
    resp = other.get(f"/book/{biz.service_ids[0]}/details?staff=any&start={z(off_grid)}&tz=Europe/Copenhagen",
                     base_url=BASE)
    assert resp.status_code == 422 and "This is not a bookable time" in resp.get_data(as_text=True)
    taken = other.get(f"/book/{biz.service_ids[0]}/details?staff=any&start={z(local_start(3, 10))}"
                      "&tz=Europe/Copenhagen", base_url=BASE)
    assert taken.status_code == 422 and "This time is no longer available" in taken.get_data(as_text=True)


def test_back_after_booking_shows_the_booking_instead_of_an_error(client, biz):
    start = local_start(3, 10)
    first = book(client, biz, start)
    assert first.status_code == 303 and first.headers["Location"].startswith("/booked/")
    [booking] = bookings(biz)
    # Back to the summary, "Confirm booking" again: one booking, and the customer sees it.
    again = book(client, biz, start)
    assert again.status_code == 303 and again.headers["Location"].startswith("/booked/")
    assert booking_id_of(again.headers["Location"], biz) == booking.id
    page = client.get(again.headers["Location"], base_url=BASE).get_data(as_text=True)
    assert "You already have this booking" in page and "/manage/" in page
    assert "no longer available" not in page and "just taken" not in page
    # Back to the slot step and the same time: the same answer.
    link = get(client, f"/book/{biz.service_ids[0]}/details?staff=any&start={z(start)}&tz=Europe/Copenhagen")
    assert link.status_code == 303 and booking_id_of(link.headers["Location"], biz) == booking.id
    assert all_counts() == (1, 1)


def test_someone_else_with_the_same_email_learns_nothing(client, biz):
    start = local_start(3, 10)
    assert book(client, biz, start).status_code == 303
    stranger = client.application.test_client()  # another browser, no proof it is theirs
    data = details_data(stranger, "any", start)
    data["action"] = "confirm"
    resp = stranger.post(f"/book/{biz.service_ids[0]}/confirm", data=data, base_url=BASE)
    text = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "This time is no longer available" in text and "/manage/" not in text
    assert all_counts() == (1, 1)
