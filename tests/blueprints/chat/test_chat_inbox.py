# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Staff "Messages" inbox on the business's host: booking conversations latest message
first, unread counts per staff member, the sidebar badge, HTMX block refresh, and access
(other businesses' conversations never show; customers and strangers get 404)."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from app.chat import access
from app.chat import service as chat
from app.extensions import db
from app.identity.models import User
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from tests.factories import make_business, make_user
from tests.helpers import login_as
from tests.support.chat_fixtures import make_booking, world  # noqa: F401

pytestmark = pytest.mark.integration

INBOX = "/dashboard/messages"
SAM = "sam@bella.test"


def _host(slug: str) -> str:
    return f"http://{slug}.localhost"


def _client(app, email: str, slug: str = "bella"):
    client = app.test_client()
    login_as(client, email, host=f"{slug}.localhost")
    return client


def _add_staff(tenant_id: uuid.UUID, email: str, name: str) -> uuid.UUID:
    user_id = make_user(email, name=name)
    with tenant_scope(tenant_id):
        add_membership(db.session.get(User, user_id), Role.STAFF)
        db.session.commit()
    return user_id


def _post(app, tenant_id: uuid.UUID, booking_id: uuid.UUID, body: str, *, staff_email: str | None = None) -> None:
    """Post ``body`` in the booking's conversation as its customer, or as ``staff_email``."""
    from app.booking.models import Booking

    with app.app_context(), tenant_scope(tenant_id):
        try:
            booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id))
            if staff_email:
                user = db.session.scalar(sa.select(User).where(User.email == staff_email))
                principal = access.staff_principal(user)
            else:
                principal = access.customer_principal(booking)
            chat.post_message(chat.conversation_for_booking(booking_id), principal, body)
            db.session.commit()
        finally:
            db.session.remove()


def _rows(html: str) -> list[tuple[str, int, str]]:
    """``(customer name, unread, preview)`` of each inbox row, in page order."""
    out = []
    for chunk in html.split('<li class="db-inbox-item')[1:]:
        name = re.search(r'class="db-inbox-who">([^<]*)<', chunk).group(1)
        unread = int(re.search(r'class="db-inbox-unread" data-unread="(\d+)"', chunk).group(1))
        preview = re.search(r'class="db-inbox-preview">([^<]*)<', chunk).group(1)
        out.append((name, unread, preview))
    return out


def _badge(html: str) -> tuple[int, bool]:
    """The sidebar badge's ``(count, shown)``."""
    m = re.search(r'<span id="db-inbox-badge"[^>]*data-unread="(\d+)"[^>]*>', html)
    assert m, "no inbox badge"
    return int(m.group(1)), " hidden" not in m.group(0)


def _second_booking(app, world) -> uuid.UUID:
    with app.app_context():
        try:
            booking_id, _ = make_booking(world.biz.tenant_id, "dan@example.test", days=4, hour=11, name="Dan Doe")
            _add_staff(world.biz.tenant_id, SAM, "Sam Staff")
            return booking_id
        finally:
            db.session.remove()


def test_inbox_lists_latest_first_with_unread_counts_per_staff_member(app, world):
    dan_booking = _second_booking(app, world)
    _post(app, world.biz.tenant_id, world.booking_id, "Hello, is there parking?")
    _post(app, world.biz.tenant_id, world.booking_id, "Also, can I bring my dog?")
    _post(app, world.biz.tenant_id, dan_booking, "Running 5 minutes late")
    _post(app, world.biz.tenant_id, dan_booking, "No problem, see you soon", staff_email=world.biz.owner_email)

    owner = _client(app, world.biz.owner_email)
    page = owner.get(INBOX, base_url=_host("bella"))
    assert page.status_code == 200
    assert _rows(page.text) == [("Dan Doe", 0, "bella owner: No problem, see you soon"),
                                ("Cara Customer", 2, "Also, can I bring my dog?")]
    assert "Haircut" in page.text
    assert f'href="/dashboard/bookings/{world.booking_id}/chat"' in page.text
    assert f'href="/dashboard/bookings/{dan_booking}/chat"' in page.text

    sam = _client(app, SAM)
    assert _rows(sam.get(INBOX, base_url=_host("bella")).text) == [
        ("Dan Doe", 2, "bella owner: No problem, see you soon"), ("Cara Customer", 2, "Also, can I bring my dog?")]

    # The owner reads Cara's conversation: their count drops, Sam's does not.
    assert owner.get(f"/dashboard/bookings/{world.booking_id}/chat", base_url=_host("bella")).status_code == 200
    assert [r[1] for r in _rows(owner.get(INBOX, base_url=_host("bella")).text)] == [0, 0]
    assert [r[1] for r in _rows(sam.get(INBOX, base_url=_host("bella")).text)] == [2, 2]

    # A new message from Cara moves her conversation to the top, unread for both.
    _post(app, world.biz.tenant_id, world.booking_id, "Thanks!")
    assert _rows(owner.get(INBOX, base_url=_host("bella")).text)[0] == ("Cara Customer", 1, "Thanks!")
    assert _rows(sam.get(INBOX, base_url=_host("bella")).text)[0] == ("Cara Customer", 3, "Thanks!")


def test_sidebar_badge_shows_the_staff_members_total_unread(app, world):
    dan_booking = _second_booking(app, world)
    owner = _client(app, world.biz.owner_email)
    assert _badge(owner.get("/dashboard/", base_url=_host("bella")).text) == (0, False)

    _post(app, world.biz.tenant_id, world.booking_id, "First question")
    _post(app, world.biz.tenant_id, dan_booking, "Second question")
    _post(app, world.biz.tenant_id, dan_booking, "Third question")
    home = owner.get("/dashboard/", base_url=_host("bella")).text
    assert _badge(home) == (3, True)
    assert f'href="{INBOX}"' in home
    inbox = owner.get(INBOX, base_url=_host("bella")).text
    assert _badge(inbox) == (3, True) and "3 unread" in inbox

    owner.get(f"/dashboard/bookings/{dan_booking}/chat", base_url=_host("bella"))
    assert _badge(owner.get("/dashboard/", base_url=_host("bella")).text) == (1, True)
    badge = owner.get(f"{INBOX}/badge", base_url=_host("bella"), headers={"HX-Request": "true"})
    assert badge.status_code == 200 and _badge(badge.text) == (1, True)
    assert "db-sidebar" not in badge.text
    assert _badge(_client(app, SAM).get("/dashboard/", base_url=_host("bella")).text) == (3, True)


def test_htmx_refresh_returns_only_the_inbox_block(app, world):
    _post(app, world.biz.tenant_id, world.booking_id, "Hello there")
    owner = _client(app, world.biz.owner_email)
    full = owner.get(INBOX, base_url=_host("bella"))
    assert "<html" in full.text and "db-sidebar" in full.text and 'id="chat-inbox"' in full.text
    assert 'hx-trigger="every 15s, chat-inbox-refresh from:body"' in full.text
    assert "js/chat_inbox.js" in full.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", full.text), "inline script"
    assert not re.search(r"\sstyle=|\son[a-z]+=", full.text)

    block = owner.get(INBOX, base_url=_host("bella"), headers={"HX-Request": "true"})
    assert block.status_code == 200
    assert block.text.lstrip().startswith('<section id="chat-inbox"')
    assert "<html" not in block.text and "db-sidebar" not in block.text
    assert _rows(block.text) == [("Cara Customer", 1, "Hello there")]


def test_other_businesses_conversations_never_appear(app, world):
    with app.app_context():
        try:
            rosa = make_business("rosa")
            rosa_booking, _ = make_booking(rosa.tenant_id, "zed@example.test", name="Zed Stranger")
        finally:
            db.session.remove()
    _post(app, rosa.tenant_id, rosa_booking, "Secret rosa message")
    _post(app, world.biz.tenant_id, world.booking_id, "Bella message")

    bella = _client(app, world.biz.owner_email)
    page = bella.get(INBOX, base_url=_host("bella")).text
    assert _rows(page) == [("Cara Customer", 1, "Bella message")]
    assert "Zed Stranger" not in page and "Secret rosa" not in page and str(rosa_booking) not in page
    assert _badge(page) == (1, True)

    rosa_owner = _client(app, rosa.owner_email, "rosa")
    page = rosa_owner.get(INBOX, base_url=_host("rosa")).text
    assert _rows(page) == [("Zed Stranger", 1, "Secret rosa message")]
    assert "Cara Customer" not in page

    # Bella's owner on rosa's host is nobody there.
    stranger = _client(app, world.biz.owner_email, "rosa")
    assert stranger.get(INBOX, base_url=_host("rosa")).status_code == 404
    assert stranger.get(f"{INBOX}/badge", base_url=_host("rosa")).status_code == 404


def test_customers_and_anonymous_cannot_open_the_inbox(app, world):
    _post(app, world.biz.tenant_id, world.booking_id, "Hello")
    anonymous = app.test_client()
    for url in (INBOX, f"{INBOX}/badge"):
        resp = anonymous.get(url, base_url=_host("bella"))
        assert resp.status_code in (302, 303) and "login" in resp.headers["Location"]
        assert _client(app, world.customer_email).get(url, base_url=_host("bella")).status_code == 404
        staff_on_apex = app.test_client()
        login_as(staff_on_apex, world.biz.owner_email)
        assert staff_on_apex.get(url).status_code == 404
