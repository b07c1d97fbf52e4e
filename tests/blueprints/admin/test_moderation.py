"""The platform's moderation queue: reports grouped by content with their context, and the
decisions an operator takes (what the business, the author and the reporter notice)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.admin.models import Sanction
from app.audit.models import AuditEntry
from app.chat import service as chat
from app.community import moderation
from app.community.models import ContentReport
from app.extensions import db
from app.identity.service import find_user
from app.notifications.center_models import Notification
from app.outbox.models import OutboxEvent
from app.reviews.queries import rating_summary
from app.reviews.service import create_review
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin, login_as
from tests.reviews.support import visit
from tests.support.chat_fixtures import build_world

pytestmark = pytest.mark.integration

APEX = "http://localhost"


def _fake_review(biz, *reporters):
    with tenant_scope(biz.tenant_id):
        fake = create_review(visit(biz, "troll@example.com", index=0), rating=1, text="Worst ever, avoid!!!")
        create_review(visit(biz, "anna@example.com", index=1), rating=5)
        for uid in reporters:
            moderation.report_content("review", fake.id, "fake", "Never a customer here", reporter_user_id=uid)
        db.session.commit()
        return fake.id


def _count(model, *where) -> int:
    with platform_scope("test: count"):
        n = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
    db.session.rollback()
    return n


def _decide(client, biz_id, target_type, target_id, action, reason="Fake review"):
    page = client.get("/admin/moderation", base_url=APEX).get_data(as_text=True)
    return client.post(f"/admin/moderation/{biz_id}/{target_type}/{target_id}",
                       data={"csrf_token": csrf_from(page), "action": action, "reason": reason}, base_url=APEX)


def test_hiding_a_reported_review_keeps_the_summary_exact_tells_reporters_and_wins_over_the_business(client, ctx):
    biz = make_business("bella")
    r1, r2 = make_user("r1@example.com"), make_user("r2@example.com")
    review_id = _fake_review(biz, r1, r2)
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    page = client.get("/admin/moderation", base_url=APEX).get_data(as_text=True)
    assert page.count("Worst ever, avoid!!!") == 1  # one group for the two reports
    assert "2 reports" in page and "Haircut, visit in" in page and "Never a customer here" in page

    missing = _decide(client, biz.tenant_id, "review", review_id, "hide", reason="")
    assert missing.status_code == 422 and "Give a reason." in missing.get_data(as_text=True)
    done = _decide(client, biz.tenant_id, "review", review_id, "hide")
    assert done.status_code == 303
    with tenant_scope(biz.tenant_id):
        summary = rating_summary()
        assert (summary.average, summary.count) == (5.0, 1)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent)
                                 .where(OutboxEvent.kind == "review.changed")) >= 1
        statuses = {(r.status, r.platform_status) for r in db.session.scalars(sa.select(ContentReport))}
        assert statuses == {("actioned", "upheld")}
        [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "moderation.hide")).all()
        assert entry.tenant_id == biz.tenant_id and entry.reason == "Fake review"
        assert entry.before == {"visible": True} and entry.after["visible"] is False
        # The business cannot restore what the platform hid.
        report = db.session.scalars(sa.select(ContentReport)).first()
        with pytest.raises(moderation.ReportError, match="only they can restore"):
            moderation.act_on_report(report, "restore", by=find_user(biz.owner_email).id)
        db.session.rollback()
    for uid in (r1, r2):
        assert _count(Notification, Notification.user_id == uid, Notification.type == "report_outcome") == 1
    assert "Worst ever" not in client.get("/", base_url="http://bella.localhost").get_data(as_text=True)
    assert "Nothing is waiting" in client.get("/admin/moderation", base_url=APEX).get_data(as_text=True)
    again = _decide(client, biz.tenant_id, "review", review_id, "restore")
    assert again.status_code == 422 and "someone decided already" in again.get_data(as_text=True)


def test_a_reported_message_shows_the_previous_ones_and_warning_its_author_tells_them(client, ctx):
    w = build_world()
    db.session.remove()
    with tenant_scope(w.biz.tenant_id):
        conv = chat.conversation_for_booking(w.booking_id)
        cara = chat.Principal(chat.CUSTOMER, user_id=w.customer_user_id, customer_id=w.customer_id, name="Cara")
        staff = chat.Principal(chat.STAFF, user_id=w.owner_user_id, name="Owner")
        chat.post_message(conv, cara, "Hello, can I move my booking?")
        chat.post_message(conv, staff, "Sorry, we are full that day.")
        rude = chat.post_message(conv, cara, "You are useless idiots")
        moderation.report_content("message", rude.id, "abuse", reporter_user_id=w.owner_user_id)
        rude_id = rude.id
        db.session.commit()
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    page = client.get("/admin/moderation", base_url=APEX).get_data(as_text=True)
    assert "You are useless idiots" in page
    assert "Cara: Hello, can I move my booking?" in page and "Sorry, we are full that day." in page
    assert _decide(client, w.biz.tenant_id, "message", rude_id, "warn", "Insults").status_code == 303
    assert _count(Sanction, Sanction.user_id == w.customer_user_id, Sanction.kind == "warn") == 1
    assert _count(Notification, Notification.user_id == w.customer_user_id,
                  Notification.type == "platform_warning") == 1
    assert _count(Notification, Notification.user_id == w.owner_user_id, Notification.type == "report_outcome") == 1


def test_the_queue_is_404_for_anyone_but_a_platform_admin(client, ctx):
    biz = make_business("bella")
    review_id = _fake_review(biz, make_user("r1@example.com"))
    for who in (None, "r1@example.com", biz.owner_email):
        if who:
            login_as(client, who)
        assert client.get("/admin/moderation", base_url=APEX).status_code == 404
        token = csrf_from(client.get("/", base_url=APEX).get_data(as_text=True))
        hit = client.post(f"/admin/moderation/{biz.tenant_id}/review/{review_id}",
                          data={"csrf_token": token, "action": "hide", "reason": "x"}, base_url=APEX)
        assert hit.status_code == 404
    assert _count(ContentReport, ContentReport.platform_status == "new") == 1


def test_a_reported_profile_cannot_be_hidden_but_suspending_its_author_suspends_the_business(client, ctx):
    biz = make_business("bella")
    reporter = make_user("r1@example.com")
    with tenant_scope(biz.tenant_id):
        moderation.report_content("profile", biz.tenant_id, "fake", "Not a real salon", reporter_user_id=reporter)
        db.session.commit()
    make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    hide = _decide(client, biz.tenant_id, "profile", biz.tenant_id, "hide", "Fake business")
    assert hide.status_code == 422 and "cannot be hidden" in hide.get_data(as_text=True)
    assert _decide(client, biz.tenant_id, "profile", biz.tenant_id, "suspend", "Fake business").status_code == 303
    shop = client.get("/", base_url="http://bella.localhost")
    assert shop.status_code == 404 and "Bella is unavailable" in shop.get_data(as_text=True)
    assert _count(Sanction, Sanction.business_id == biz.tenant_id, Sanction.kind == "suspend") == 1
