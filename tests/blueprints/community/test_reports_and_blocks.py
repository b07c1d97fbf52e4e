"""Report and block: anyone reports a post, comment, message or the profile with a reason;
owners and managers see the reports at /dashboard/reports and hide, restore, dismiss or block
the author; a blocked person cannot message, comment on or book with the business."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.chat.models import Message
from app.community.models import ContentReport, CustomerBlock, Post, PostComment
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.tenants.context import tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"


@pytest.fixture
def biz(app):
    with app.app_context():
        try:
            b = make_business("bella")
            make_user("cara@example.com", name="Cara Customer")
            make_user("rita@example.com", name="Rita Reporter")
            return b
        finally:
            db.session.remove()


def _client(app, email: str | None = None):
    client = app.test_client()
    if email:
        login_as(client, email, host=HOST)
    return client


def _form_post(client, path: str, data: dict, page_path: str | None = None):
    page = client.get(page_path or path, base_url=BASE)
    return client.post(path, data={"csrf_token": csrf_from(page.data), **data}, base_url=BASE)


def _rows(app, tenant_id, model):
    with app.app_context(), tenant_scope(tenant_id):
        try:
            rows = list(db.session.scalars(sa.select(model)))
            db.session.expunge_all()
            return rows
        finally:
            db.session.remove()


def _post_with_comment(app, biz) -> tuple[Post, PostComment]:
    owner = _client(app, biz.owner_email)
    assert _form_post(owner, "/dashboard/posts", {"body": "Summer offer", "publish": "y"}).status_code == 303
    [post] = _rows(app, biz.tenant_id, Post)
    cara = _client(app, "cara@example.com")
    assert _form_post(cara, f"/posts/{post.id}/comments", {"body": "Buy cheap watches at spam.example"},
                      page_path=f"/posts/{post.id}").status_code == 303
    [comment] = _rows(app, biz.tenant_id, PostComment)
    return post, comment


def test_a_reported_comment_is_hidden_and_its_author_blocked_from_commenting_messaging_and_booking(app, biz):
    post, comment = _post_with_comment(app, biz)
    rita = _client(app, "rita@example.com")
    page = rita.get(f"/posts/{post.id}", base_url=BASE)
    report_path = f"/report/comment/{comment.id}"
    assert report_path in page.text
    form = rita.get(report_path, base_url=BASE)
    assert form.status_code == 200 and "Buy cheap watches" in form.text
    resp = rita.post(report_path, base_url=BASE, data={"csrf_token": csrf_from(form.data), "note": "x" * 1001})
    assert resp.status_code == 422 and "Choose a reason." in resp.text and "at most 1,000" in resp.text
    resp = rita.post(report_path, base_url=BASE,
                     data={"csrf_token": csrf_from(form.data), "reason": "spam", "note": "Ads"})
    assert resp.status_code == 200 and "Thank you" in resp.text
    [report] = _rows(app, biz.tenant_id, ContentReport)
    assert (report.target_type, report.reason, report.status, report.platform_status) == ("comment", "spam", "open",
                                                                                          "new")
    assert "content.reported" in {e.kind for e in _rows(app, biz.tenant_id, OutboxEvent)}  # the platform's queue

    owner = _client(app, biz.owner_email)
    reports = owner.get("/dashboard/reports", base_url=BASE)
    assert "Buy cheap watches" in reports.text and "Cara Customer" in reports.text
    resp = owner.post(f"/dashboard/reports/{report.id}", base_url=BASE,
                      data={"csrf_token": csrf_from(reports.data), "action": "block"})
    assert resp.status_code == 303
    assert "Buy cheap watches" not in _client(app).get(f"/posts/{post.id}", base_url=BASE).text
    [block] = _rows(app, biz.tenant_id, CustomerBlock)
    assert block.email == "cara@example.com" and block.user_id is not None
    assert "No open reports." in owner.get("/dashboard/reports", base_url=BASE).text
    assert "cara@example.com" in owner.get("/dashboard/reports", base_url=BASE).text  # in the blocked list

    cara = _client(app, "cara@example.com")
    resp = _form_post(cara, f"/posts/{post.id}/comments", {"body": "Again"}, page_path=f"/posts/{post.id}")
    assert resp.status_code == 403 and "does not accept" in resp.text
    resp = _form_post(cara, "/message", {"body": "Let me in"}, page_path="/")
    assert resp.status_code == 403 and "does not accept" in resp.text
    # a guest using the blocked address is refused too, and nothing was written
    resp = _form_post(_client(app), "/message", {"name": "Cara", "email": "CARA@example.com", "body": "Hi"})
    assert resp.status_code == 403
    assert _rows(app, biz.tenant_id, Message) == []
    # booking through the API under the blocked address
    start = (utcnow() + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    api = _client(app).post("/api/v1/bookings", base_url=BASE, json={
        "service_id": str(biz.service_ids[0]), "start": start.isoformat(),
        "customer": {"name": "Cara", "email": "cara@example.com", "phone": "+4520304050"}})
    assert api.status_code == 403 and api.headers["Content-Type"].startswith("application/problem+json")


def test_restore_dismiss_and_unblock(app, biz):
    post, comment = _post_with_comment(app, biz)
    rita = _client(app, "rita@example.com")
    _form_post(rita, f"/report/post/{post.id}", {"reason": "fake"})
    _form_post(rita, f"/report/comment/{comment.id}", {"reason": "abuse"})
    owner = _client(app, biz.owner_email)
    page = owner.get("/dashboard/reports", base_url=BASE)
    reports = {r.target_type: r for r in _rows(app, biz.tenant_id, ContentReport)}
    token = csrf_from(page.data)
    assert owner.post(f"/dashboard/reports/{reports['post'].id}", base_url=BASE,
                      data={"csrf_token": token, "action": "hide"}).status_code == 303
    visitor = _client(app)
    assert visitor.get(f"/posts/{post.id}", base_url=BASE).status_code == 404
    assert "Summer offer" not in visitor.get("/", base_url=BASE).text
    assert owner.post(f"/dashboard/reports/{reports['post'].id}", base_url=BASE,
                      data={"csrf_token": token, "action": "restore"}).status_code == 303
    assert visitor.get(f"/posts/{post.id}", base_url=BASE).status_code == 200
    assert owner.post(f"/dashboard/reports/{reports['comment'].id}", base_url=BASE,
                      data={"csrf_token": token, "action": "dismiss"}).status_code == 303
    assert "Buy cheap watches" in visitor.get(f"/posts/{post.id}", base_url=BASE).text
    statuses = {r.target_type: r.status for r in _rows(app, biz.tenant_id, ContentReport)}
    assert statuses == {"post": "dismissed", "comment": "dismissed"}
    handled = owner.get("/dashboard/reports?status=closed", base_url=BASE).text
    assert "Summer offer" in handled
    # the profile itself can be reported, but only the platform can hide it
    _form_post(rita, f"/report/profile/{biz.tenant_id}", {"reason": "fake"})
    [profile_report] = [r for r in _rows(app, biz.tenant_id, ContentReport) if r.target_type == "profile"]
    resp = owner.post(f"/dashboard/reports/{profile_report.id}", base_url=BASE,
                      data={"csrf_token": token, "action": "hide"})
    assert resp.status_code == 422 and "Only the platform" in resp.text
    # block then unblock
    cara = _client(app, "cara@example.com")
    inbox_page = _form_post(cara, "/message", {"body": "Hello"}, page_path="/")
    assert inbox_page.status_code == 303
    inquiry_path = re.search(r"/inquiries/[0-9a-f-]+", inbox_page.headers["Location"]).group(0)
    inquiry_id = inquiry_path.rsplit("/", 1)[1]
    assert owner.post(f"/dashboard/inquiries/{inquiry_id}/block", base_url=BASE,
                      data={"csrf_token": token}).status_code == 303
    resp = _form_post(cara, inquiry_path, {"body": "Still there?"})
    assert resp.status_code in (200, 403)
    assert "does not accept" in cara.get(inquiry_path, base_url=BASE).text
    [block] = _rows(app, biz.tenant_id, CustomerBlock)
    assert owner.post(f"/dashboard/blocks/{block.id}/delete", base_url=BASE,
                      data={"csrf_token": token}).status_code == 303
    assert _form_post(cara, inquiry_path, {"body": "Still there?"}).status_code == 303


def test_reports_need_visible_content_of_this_business_and_the_page_needs_a_manager(app, biz):
    post, _ = _post_with_comment(app, biz)
    with app.app_context():
        other = make_business("other")
        db.session.remove()
    visitor = _client(app)
    assert visitor.get(f"/report/post/{post.id}", base_url="http://other.localhost").status_code == 404
    assert visitor.get(f"/report/nonsense/{post.id}", base_url=BASE).status_code == 404
    assert visitor.get("/report/post/not-a-uuid", base_url=BASE).status_code == 404
    assert _client(app, "cara@example.com").get("/dashboard/reports", base_url=BASE).status_code == 404
    other_owner = app.test_client()
    login_as(other_owner, other.owner_email, host="other.localhost")
    assert other_owner.get("/dashboard/reports", base_url="http://other.localhost").text.count("Summer offer") == 0


def test_staff_report_and_hide_a_booking_chat_message(app, biz):
    from app.chat import access
    from app.chat import service as chat
    from app.identity.service import find_user
    from tests.support.chat_fixtures import make_booking

    with app.app_context():
        cara = find_user("cara@example.com")
        booking_id, _ = make_booking(biz.tenant_id, "cara@example.com", cara.id)
        with tenant_scope(biz.tenant_id):
            from app.booking.models import Booking

            booking = db.session.get(Booking, (biz.tenant_id, booking_id))
            conv = chat.conversation_for_booking(booking_id)
            chat.post_message(conv, access.customer_principal(booking, cara), "You are all idiots")
            db.session.commit()
        db.session.remove()
    [msg] = _rows(app, biz.tenant_id, Message)
    owner = _client(app, biz.owner_email)
    chat_url = f"/dashboard/bookings/{booking_id}/chat"
    assert f"/report/message/{msg.id}" in owner.get(chat_url, base_url=BASE).text
    assert _form_post(owner, f"/report/message/{msg.id}", {"reason": "abuse"}).status_code == 200
    [report] = _rows(app, biz.tenant_id, ContentReport)
    page = owner.get("/dashboard/reports", base_url=BASE)
    assert "You are all idiots" in page.text and "Cara Customer" in page.text
    assert owner.post(f"/dashboard/reports/{report.id}", base_url=BASE,
                      data={"csrf_token": csrf_from(page.data), "action": "hide"}).status_code == 303
    assert "You are all idiots" not in owner.get(chat_url, base_url=BASE).text
    customer = app.test_client()
    login_as(customer, "cara@example.com")
    assert "You are all idiots" not in customer.get(f"/account/messages/{biz.tenant_id}/{booking_id}").text
