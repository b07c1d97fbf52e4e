"""Talking before booking: "Message <business>" on the profile starts an inquiry that lands in
the staff inbox; a signed-in customer writes at once, a guest confirms their email first and
then gets replies by email with their link; limits per person; strangers get 404."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.chat.models import Inquiry, Message
from app.extensions import db
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.conftest_mail import run_jobs, subject_of, text_of

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"


@pytest.fixture
def biz(app):
    with app.app_context():
        try:
            b = make_business("bella")
            make_user("cara@example.test", name="Cara Customer")
            return b
        finally:
            db.session.remove()


def _client(app, email: str | None = None, host: str = HOST):
    client = app.test_client()
    if email:
        login_as(client, email, host=host)
    return client


def _send(client, data: dict, path: str = "/message"):
    page = client.get(path, base_url=BASE)
    return client.post(path, data={"csrf_token": csrf_from(page.data), **data}, base_url=BASE)


def _bodies(app, tenant_id) -> list[str]:
    with app.app_context(), tenant_scope(tenant_id):
        try:
            return list(db.session.scalars(sa.select(Message.body).order_by(Message.seq)))
        finally:
            db.session.remove()


def _fan_out(app) -> None:
    """Relay the outbox and run the jobs it causes (in an app context, as in-process workers need)."""
    with app.app_context():
        relay_outbox()
        for _ in range(2):
            assert run_jobs(app) == []
        db.session.remove()


def test_the_profile_offers_to_message_the_business(app, biz):
    page = app.test_client().get("/", base_url=BASE)
    assert page.status_code == 200
    assert 'href="/message"' in page.text and "Message " in page.text


def test_signed_in_customer_writes_at_once_and_staff_reply_from_the_inbox(app, biz):
    cara = _client(app, "cara@example.test")
    resp = _send(cara, {"body": "Do you do curly hair?"})
    assert resp.status_code == 303
    convo = resp.headers["Location"].split("#")[0]
    assert convo.startswith("/inquiries/")
    assert "Do you do curly hair?" in cara.get(convo, base_url=BASE).text
    # a second visit to /message goes back to the same conversation
    assert cara.get("/message", base_url=BASE).headers["Location"].startswith(convo)
    # the account's message list on the apex links to it too
    apex = _client(app, "cara@example.test", host="localhost")
    listing = apex.get("/account/messages")
    assert "Questions before booking" in listing.text
    assert re.search(rf'href="http://bella\.localhost(:\d+)?{convo}"', listing.text)

    owner = _client(app, biz.owner_email)
    inbox = owner.get("/dashboard/messages", base_url=BASE)
    assert "Cara Customer" in inbox.text and "Question before booking" in inbox.text
    assert "1 unread" in inbox.text
    staff_url = re.search(r'href="(/dashboard/inquiries/[^"]+)"', inbox.text).group(1)
    page = owner.get(staff_url, base_url=BASE)
    assert "Do you do curly hair?" in page.text
    assert owner.post(staff_url, data={"csrf_token": csrf_from(page.data), "body": "Yes, we love curls!"},
                      base_url=BASE).status_code == 303
    assert "Yes, we love curls!" in cara.get(convo, base_url=BASE).text
    assert _bodies(app, biz.tenant_id) == ["Do you do curly hair?", "Yes, we love curls!"]
    # nobody else reaches the conversation
    make = _client(app)
    assert make.get(convo, base_url=BASE).status_code == 302  # to the login page
    with app.app_context():
        make_user("mallory@example.test")
        other = make_business("other")
        db.session.remove()
    assert _client(app, "mallory@example.test").get(convo, base_url=BASE).status_code == 404
    other_owner = _client(app, other.owner_email, host="other.localhost")
    assert other_owner.get(staff_url, base_url="http://other.localhost").status_code == 404


def test_guest_confirms_by_email_first_then_gets_replies_by_email(app, biz, mailbox):
    guest = _client(app)
    resp = _send(guest, {"name": "Gus Guest", "email": "Gus@Example.com", "body": "Is there parking?"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/message/sent"), re.findall(r"field-error[^>]*>([^<]*)<", resp.text)
    assert "Check your email" in guest.get("/message/sent", base_url=BASE).text
    assert _bodies(app, biz.tenant_id) == []  # nothing reaches the business before the confirmation
    owner = _client(app, biz.owner_email)
    assert "Gus Guest" not in owner.get("/dashboard/messages", base_url=BASE).text

    _fan_out(app)
    [mail] = mailbox.to("gus@example.com", "Confirm your message")
    link = re.search(r"^Confirm and send: (\S+)", text_of(mail), re.M).group(1)
    assert urlsplit(link).hostname == HOST and "Is there parking?" in text_of(mail)
    path = urlsplit(link).path
    page = guest.get(path, base_url=BASE)  # a GET (a mail scanner) confirms nothing
    assert page.status_code == 200 and "Confirm my email and send" in page.text
    assert _bodies(app, biz.tenant_id) == []
    resp = guest.post(path, data={"csrf_token": csrf_from(page.data), "action": "confirm"}, base_url=BASE)
    assert resp.status_code == 303
    assert _bodies(app, biz.tenant_id) == ["Is there parking?"]
    assert "Gus Guest" in owner.get("/dashboard/messages", base_url=BASE).text

    inbox = owner.get("/dashboard/messages", base_url=BASE)
    staff_url = re.search(r'href="(/dashboard/inquiries/[^"]+)"', inbox.text).group(1)
    page = owner.get(staff_url, base_url=BASE)
    owner.post(staff_url, data={"csrf_token": csrf_from(page.data), "body": "Yes, behind the shop."}, base_url=BASE)
    _fan_out(app)
    [reply] = mailbox.to("gus@example.com", "New message")
    assert "Yes, behind the shop." in text_of(reply) and path in text_of(reply)
    assert subject_of(reply).startswith("New message from")
    # the link is the guest's way back into the conversation, where they answer
    page = guest.get(path, base_url=BASE)
    assert "Yes, behind the shop." in page.text
    assert guest.post(path, data={"csrf_token": csrf_from(page.data), "body": "Thanks!"},
                      base_url=BASE).status_code == 303
    assert _bodies(app, biz.tenant_id)[-1] == "Thanks!"
    # a forged or another business's token is a 404
    assert guest.get("/inquiry/not-a-token", base_url=BASE).status_code == 404


def test_guest_errors_are_inline_and_nothing_is_written(app, biz):
    guest = _client(app)
    resp = _send(guest, {"name": "", "email": "nope", "body": ""})
    assert resp.status_code == 422
    assert "Enter your name." in resp.text and "valid email address" in resp.text
    resp = _send(guest, {"name": "Gus", "email": "gus@example.com", "body": "x" * 4001})
    assert resp.status_code == 422 and "at most 4,000 characters" in resp.text
    with app.app_context(), tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inquiry)) == 0
        db.session.remove()


def test_inquiries_are_rate_limited_per_person(app, biz):
    app.config["INQUIRY_LIMITS_PER_PERSON"] = "2 per hour"
    try:
        guest = _client(app)
        codes = [_send(guest, {"name": "Gus", "email": "gus@example.com", "body": f"q{i}"}).status_code
                 for i in range(3)]
        assert codes == [303, 303, 429]
        # another person is not affected
        assert _send(guest, {"name": "Ann", "email": "ann@example.com", "body": "hello"}).status_code == 303
    finally:
        app.config.pop("INQUIRY_LIMITS_PER_PERSON")


def test_staff_and_customer_are_notified_with_links_to_their_own_page(app, biz):
    from app.identity.service import find_user
    from tests.support.notification_support import notifications_of

    cara = _client(app, "cara@example.test")
    convo = _send(cara, {"body": "Any slots on Saturday?"}).headers["Location"].split("#")[0]
    inquiry_id = convo.rsplit("/", 1)[1]
    _fan_out(app)
    with app.app_context():
        owner_id, cara_id = find_user(biz.owner_email).id, find_user("cara@example.test").id
        [note] = [n for n in notifications_of(owner_id) if n.type == "new_message"]
        assert note.url.endswith(f"/dashboard/inquiries/{inquiry_id}")
        db.session.remove()
    owner = _client(app, biz.owner_email)
    page = owner.get(f"/dashboard/inquiries/{inquiry_id}", base_url=BASE)
    owner.post(f"/dashboard/inquiries/{inquiry_id}", data={"csrf_token": csrf_from(page.data), "body": "Yes, 11:00."},
               base_url=BASE)
    _fan_out(app)
    with app.app_context():
        [note] = [n for n in notifications_of(cara_id) if n.type == "new_message"]
        assert note.url.endswith(f"/inquiries/{inquiry_id}") and "/dashboard/" not in note.url
        db.session.remove()


def test_a_guests_emails_are_in_the_language_they_wrote_in(app, biz, mailbox):
    """Two guests of the same (English) business: the one whose browser reads Danish gets the
    confirmation and the business's reply in Danish, the other in English."""
    danish, english = {"Accept-Language": "da-DK,da;q=0.9"}, {"Accept-Language": "en-GB,en;q=0.8"}
    for headers, name, email in ((danish, "Dorte Dansk", "dorte@example.com"),
                                 (english, "Eve English", "eve@example.com")):
        guest = _client(app)
        guest.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        assert _send(guest, {"name": name, "email": email, "body": f"Hello from {name}"}).status_code == 303
    _fan_out(app)
    [dorte] = mailbox.to("dorte@example.com", "Bekræft din besked til")
    [eve] = mailbox.to("eve@example.com", "Confirm your message to")
    for mail in (dorte, eve):
        link = re.search(r"(http://\S+/inquiry/\S+)", text_of(mail)).group(1)
        guest = _client(app)
        page = guest.get(urlsplit(link).path, base_url=BASE)
        guest.post(urlsplit(link).path, data={"csrf_token": csrf_from(page.data), "action": "confirm"}, base_url=BASE)
    owner = _client(app, biz.owner_email)
    for who in ("Dorte Dansk", "Eve English"):
        inbox = owner.get("/dashboard/messages", base_url=BASE).text
        url = re.search(r'href="(/dashboard/inquiries/[^"]+)"[^>]*>(?:(?!</a>).)*' + who, inbox, re.S).group(1)
        page = owner.get(url, base_url=BASE)
        owner.post(url, data={"csrf_token": csrf_from(page.data), "body": f"Answer to {who}"}, base_url=BASE)
    _fan_out(app)
    [reply] = mailbox.to("dorte@example.com", "Ny besked fra")
    assert "Answer to Dorte Dansk" in text_of(reply)
    [reply] = mailbox.to("eve@example.com", "New message from")
    assert "Answer to Eve English" in text_of(reply)
