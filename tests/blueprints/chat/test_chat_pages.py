# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Chat pages without JavaScript: the customer (apex account and manage link) and staff
(dashboard) read and post messages with plain forms; errors inline; strangers get 404."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.booking.models import Booking
from app.chat.models import Message
from app.extensions import db
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.chat_fixtures import make_booking, world  # noqa: F401

pytestmark = pytest.mark.integration

PAYLOADS = ['<script>window.pwned=1</script>', '<img src=x onerror="window.pwned=1">',
            '<button hx-get="/account/bookings" hx-trigger="load" hx-target="body">x</button>',
            '<div hx-on:htmx:load="window.pwned=1">y</div>']


def _tenant_host(world) -> str:
    return f"http://{world.biz.slug}.localhost"


def _staff_client(app, world):
    client = app.test_client()
    login_as(client, world.biz.owner_email, host=f"{world.biz.slug}.localhost")
    return client


def _customer_client(app, world):
    client = app.test_client()
    login_as(client, world.customer_email)
    return client


def _post(client, url, body, base_url="http://localhost"):
    page = client.get(url, base_url=base_url)
    return client.post(url, data={"csrf_token": csrf_from(page.data), "body": body}, base_url=base_url)


def _bodies(app, world) -> list[str]:
    with app.app_context(), tenant_scope(world.biz.tenant_id):
        try:
            return list(db.session.scalars(sa.select(Message.body).order_by(Message.seq)))
        finally:
            db.session.remove()


def _manage_url(app, world) -> str:
    from app.booking.service import manage_token

    with app.app_context(), tenant_scope(world.biz.tenant_id):
        booking = db.session.scalar(sa.select(Booking).where(Booking.id == world.booking_id))
        token = manage_token(booking)
        db.session.remove()
    return f"/manage/{token}"


def test_staff_and_customer_chat_with_plain_forms(app, world):
    staff = _staff_client(app, world)
    detail = staff.get(f"/dashboard/bookings/{world.booking_id}", base_url=_tenant_host(world))
    chat_url = f"/dashboard/bookings/{world.booking_id}/chat"
    assert chat_url in detail.text
    page = staff.get(chat_url, base_url=_tenant_host(world))
    assert page.status_code == 200 and "No messages yet" in page.text
    resp = _post(staff, chat_url, "Hi Cara, see https://example.com/parking please", _tenant_host(world))
    assert resp.status_code == 303
    page = staff.get(chat_url, base_url=_tenant_host(world))
    assert "Hi Cara" in page.text and "Sent" in page.text
    assert '<a href="https://example.com/parking" rel="nofollow noopener noreferrer">' in page.text

    customer = _customer_client(app, world)
    listing = customer.get("/account/messages")
    my_url = f"/account/messages/{world.biz.tenant_id}/{world.booking_id}"
    assert my_url in listing.text and "1 unread" in listing.text
    mine = customer.get(my_url)
    assert mine.status_code == 200 and "Hi Cara" in mine.text
    assert "0 unread" in customer.get("/account/messages").text  # opening marks it read
    assert _post(customer, my_url, "Thanks! See you then.").status_code == 303

    page = staff.get(chat_url, base_url=_tenant_host(world))
    assert "Thanks! See you then." in page.text
    assert re.search(r'class="chat-receipt"[^>]*>Read<', page.text)  # the customer read the staff message
    assert _bodies(app, world) == ["Hi Cara, see https://example.com/parking please", "Thanks! See you then."]


def test_manage_link_conversation_for_guests(app, world):
    client = app.test_client()
    manage = _manage_url(app, world)
    page = client.get(manage, base_url=_tenant_host(world))
    assert f"{manage}/chat" in page.text
    assert _post(client, f"{manage}/chat", "Guest question", _tenant_host(world)).status_code == 303
    assert "Guest question" in client.get(f"{manage}/chat", base_url=_tenant_host(world)).text
    assert client.get("/manage/not-a-token/chat", base_url=_tenant_host(world)).status_code == 404
    assert _bodies(app, world) == ["Guest question"]


def test_empty_and_oversized_messages_answer_422_inline(app, world):
    customer = _customer_client(app, world)
    url = f"/account/messages/{world.biz.tenant_id}/{world.booking_id}"
    resp = _post(customer, url, "   ")
    assert resp.status_code == 422 and "Write a message before sending." in resp.text
    long = "x" * 4001
    resp = _post(customer, url, long)
    assert resp.status_code == 422 and "at most 4,000 characters" in resp.text
    assert long in resp.text  # the text is kept for editing
    assert _bodies(app, world) == []


def test_rate_limit_answers_429_with_a_clear_message(app, world):
    customer = _customer_client(app, world)
    url = f"/account/messages/{world.biz.tenant_id}/{world.booking_id}"
    token = csrf_from(customer.get(url).data)
    codes = [customer.post(url, data={"csrf_token": token, "body": f"m{i}"}).status_code for i in range(21)]
    assert codes[:20] == [303] * 20
    assert codes[20] == 429
    assert "too fast" in customer.post(url, data={"csrf_token": token, "body": "again"}).text
    assert len(_bodies(app, world)) == 20


def test_strangers_and_other_tenants_get_404(app, world):
    with app.app_context():
        other = make_business("other")
        make_user("mallory@example.test")
        other_booking, _ = make_booking(other.tenant_id, "someone@example.test")
        db.session.remove()
    # another customer, on the apex
    mallory = app.test_client()
    login_as(mallory, "mallory@example.test")
    assert mallory.get(f"/account/messages/{world.biz.tenant_id}/{world.booking_id}").status_code == 404
    assert mallory.get(f"/account/messages/{uuid.uuid4()}/{world.booking_id}").status_code == 404
    # the customer asking for another business's booking under the right or wrong tenant id
    customer = _customer_client(app, world)
    assert customer.get(f"/account/messages/{world.biz.tenant_id}/{other_booking}").status_code == 404
    assert customer.get(f"/account/messages/{other.tenant_id}/{world.booking_id}").status_code == 404
    # staff of the other business, on their own host, with bella's booking id
    other_staff = app.test_client()
    login_as(other_staff, other.owner_email, host="other.localhost")
    assert other_staff.get(f"/dashboard/bookings/{world.booking_id}/chat",
                           base_url="http://other.localhost").status_code == 404
    # a customer (not staff) on bella's host
    login_as(customer, world.customer_email, host="bella.localhost")
    assert customer.get(f"/dashboard/bookings/{world.booking_id}/chat",
                        base_url="http://bella.localhost").status_code == 404
    # anonymous on the staff page goes to the login page
    assert app.test_client().get(f"/dashboard/bookings/{world.booking_id}/chat",
                                 base_url="http://bella.localhost").status_code == 302
    assert _bodies(app, world) == []


def test_stored_payloads_render_escaped_inside_hx_disable(app, world):
    customer = _customer_client(app, world)
    url = f"/account/messages/{world.biz.tenant_id}/{world.booking_id}"
    for p in PAYLOADS:
        assert _post(customer, url, p).status_code == 303
    staff = _staff_client(app, world)
    page = staff.get(f"/dashboard/bookings/{world.booking_id}/chat", base_url=_tenant_host(world)).text
    region = page[page.index('<ol class="chat-messages"'):page.index("</ol>", page.index('<ol class="chat-messages"'))]
    assert "hx-disable" in region.split(">", 1)[0]
    for raw in ("<script>", "<img", "<button", "<div hx-on"):
        assert raw not in region
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in region
    assert '&lt;button hx-get="/account/bookings"' in region  # text, not an element htmx could process
    with app.app_context(), platform_scope("test: stored as typed"):
        assert set(db.session.scalars(sa.select(Message.body))) == set(PAYLOADS)
        db.session.remove()
