"""Disputes and refund requests end to end over HTTP, against localstripe: the customer opens a
case with evidence, the business answers, the platform decides; refunds land in Stripe and the
ledger, both sides are told, evidence is private, and the deadlines worker moves what is late."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from app.audit.models import AuditEntry
from app.booking.models import Booking
from app.booking.service import manage_token
from app.disputes.models import Dispute, DisputeEvidence
from app.disputes.tasks import enforce_deadlines, periodic_deadlines
from app.extensions import db
from app.formatting import format_money
from app.notifications.center_models import Notification
from app.payments.policy import BusinessPolicy, PaymentMode, ServiceRule
from app.tenants.context import platform_scope, tenant_scope
from app.timeutil import utcnow
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin, login_as
from tests.payments.test_payments import (  # noqa: F401 - fixtures used by name
    BASE,
    _smtp,
    book_direct,
    local_start,
    localstripe,
    pay,
    relay_and_run,
    setup_business,
    state,
    stripe_on,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("stripe_on")]

APEX = "http://localhost"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def paid_booking():
    """Bella with one fully prepaid 500.00 kr. booking by ann@example.com (an account), paid."""
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, _ = book_direct(biz, local_start(3, 10))
    pay(biz, bid)
    make_user("ann@example.com", name="Ann Customer")
    return biz, bid


def customer_money(biz, bid) -> list[tuple[str, int]]:
    """The booking's ledger rows of the customer's money (payments, refunds), sorted."""
    return sorted(row for row in state(biz, bid)[1] if row[0] in ("payment", "refund"))


def the_case(biz) -> Dispute:
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        case = db.session.scalar(sa.select(Dispute))
        db.session.expunge(case)  # read as it is now, outside the business's scope
        return case


def open_case(client, biz, bid, **data):
    login_as(client, "ann@example.com")
    url = f"/account/bookings/{biz.tenant_id}/{bid}/problem"
    page = client.get(url, base_url=APEX)
    assert page.status_code == 200
    form = {"csrf_token": csrf_from(page.data), "kind": "dispute", "reason": "poor_quality",
            "description": "The colour washed out after one day.", **data}
    return client.post(url, base_url=APEX, data=form, content_type="multipart/form-data")


def test_dispute_with_a_photo_answered_by_the_business_and_decided_as_a_partial_refund(client, ctx):
    biz, bid = paid_booking()
    make_user("root@plaza.test", is_platform_admin=True)
    assert customer_money(biz, bid) == [("payment", 50000)]

    resp = open_case(client, biz, bid, files=[(io.BytesIO(png()), "colour.png")])
    assert resp.status_code == 303
    case = the_case(biz)
    assert (case.status, case.paid_amount, case.kind) == ("awaiting_business", 50000, "dispute")
    customer_page = client.get(resp.headers["Location"], base_url=APEX).get_data(as_text=True)
    assert "Awaiting business" in customer_page and "The colour washed out" in customer_page
    signed = customer_page.split('<img src="')[1].split('"')[0].replace("&amp;", "&")
    assert signed.startswith("/media/private/disputes/")
    photo = client.get(signed, base_url=APEX)
    assert photo.status_code == 200 and photo.mimetype == "image/webp"  # re-encoded, not the upload
    key = signed.split("/media/private/")[1].split("?")[0]
    assert client.get(f"/media/{key}", base_url=APEX).status_code == 404  # never public
    assert client.get(signed.replace("sig=", "sig=0"), base_url=APEX).status_code == 404

    # A stranger sees nothing of it.
    make_user("eve@example.com")
    login_as(client, "eve@example.com")
    assert client.get(resp.headers["Location"], base_url=APEX).status_code == 404
    assert client.get(f"/account/bookings/{biz.tenant_id}/{bid}/problem", base_url=APEX).status_code == 404

    # The business answers with a PDF.
    login_as(client, biz.owner_email, host="bella.localhost")
    listing = client.get("/dashboard/disputes", base_url=BASE)
    assert listing.status_code == 200 and "Ann Customer" in listing.get_data(as_text=True)
    page = client.get(f"/dashboard/disputes/{case.id}", base_url=BASE)
    assert "Send answer" in page.get_data(as_text=True)
    resp = client.post(f"/dashboard/disputes/{case.id}/answer", base_url=BASE, content_type="multipart/form-data",
                       data={"csrf_token": csrf_from(page.data), "action": "answer",
                             "answer": "We followed the aftercare sheet with her.",
                             "files": [(io.BytesIO(PDF), "aftercare.pdf")]})
    assert resp.status_code == 303
    assert the_case(biz).status == "escalated"

    # The platform decides a partial refund of 200.00 kr.
    login_admin(client, "root@plaza.test")
    queue_page = client.get("/admin/disputes", base_url=APEX)
    queue = queue_page.get_data(as_text=True)
    assert queue_page.status_code == 200 and "Bella" in queue and "Poor quality" in queue
    detail = client.get(f"/admin/disputes/{biz.tenant_id}/{case.id}", base_url=APEX)
    text = detail.get_data(as_text=True)
    assert "We followed the aftercare sheet" in text and "aftercare.pdf" in text and "/media/private/" in text
    form = {"csrf_token": csrf_from(detail.data), "decision": "partial_refund", "amount": "600", "reason": "Half."}
    refused = client.post(f"/admin/disputes/{biz.tenant_id}/{case.id}/decide", base_url=APEX, data=form)
    assert refused.status_code == 422 and "less than" in refused.get_data(as_text=True)
    assert the_case(biz).status == "escalated"
    form.update(amount="200.00", reason="The colour faded early; half the colouring part is refunded.")
    resp = client.post(f"/admin/disputes/{biz.tenant_id}/{case.id}/decide", base_url=APEX, data=form)
    assert resp.status_code == 303
    case = the_case(biz)
    assert (case.status, case.decision, case.refund_amount) == ("decided", "partial_refund", 20000)
    assert customer_money(biz, bid) == [("payment", 50000), ("refund", -20000)]

    # Both sides see the outcome, on their pages and in their notification centers.
    relay_and_run(ctx)
    login_as(client, "ann@example.com")
    mine = client.get(f"/account/cases/{biz.tenant_id}/{case.id}", base_url=APEX).get_data(as_text=True)
    assert "Partial refund" in mine and format_money(20000, "DKK") in mine and "half the colouring part" in mine
    login_as(client, biz.owner_email, host="bella.localhost")
    theirs = client.get(f"/dashboard/disputes/{case.id}", base_url=BASE).get_data(as_text=True)
    assert "Partial refund" in theirs and format_money(20000, "DKK") in theirs
    db.session.rollback()
    with platform_scope("test"):
        titles = set(db.session.scalars(sa.select(Notification.title)))
        actions = list(db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_id == str(case.id))
                                          .order_by(AuditEntry.at)))
    assert "Decision on your dispute: Partial refund" in titles
    assert "Decision on Ann Customer's dispute: Partial refund" in titles
    assert "New dispute from Ann Customer" in titles
    assert actions == ["dispute.opened", "dispute.answered", "dispute.decided"]


def test_refund_request_accepted_by_the_business_refunds_everything_once(client, ctx):
    biz, bid = paid_booking()
    assert open_case(client, biz, bid, kind="refund_request", reason="double_charge",
                     description="").status_code == 303
    case = the_case(biz)
    login_as(client, biz.owner_email, host="bella.localhost")
    page = client.get(f"/dashboard/disputes/{case.id}", base_url=BASE)
    resp = client.post(f"/dashboard/disputes/{case.id}/answer", base_url=BASE,
                       data={"csrf_token": csrf_from(page.data), "action": "accept"})
    assert resp.status_code == 303
    assert (the_case(biz).status, the_case(biz).decision) == ("decided", "accepted")
    assert customer_money(biz, bid) == [("payment", 50000), ("refund", -50000)]
    again = client.post(f"/dashboard/disputes/{case.id}/answer", base_url=BASE,
                        data={"csrf_token": csrf_from(page.data), "action": "accept"})
    assert again.status_code == 422
    assert customer_money(biz, bid) == [("payment", 50000), ("refund", -50000)]
    # Nothing is left to refund, so no new case can be opened.
    login_as(client, "ann@example.com")
    text = client.get(f"/account/bookings/{biz.tenant_id}/{bid}/problem", base_url=APEX).get_data(as_text=True)
    assert "Only a paid booking" in text


def test_declined_refund_request_goes_to_the_platform_queue(client, ctx):
    biz, bid = paid_booking()
    make_user("root@plaza.test", is_platform_admin=True)
    open_case(client, biz, bid, kind="refund_request", reason="not_as_described", description="Not a balayage.")
    case = the_case(biz)
    login_as(client, biz.owner_email, host="bella.localhost")
    page = client.get(f"/dashboard/disputes/{case.id}", base_url=BASE)
    empty = client.post(f"/dashboard/disputes/{case.id}/answer", base_url=BASE,
                        data={"csrf_token": csrf_from(page.data), "action": "decline", "answer": ""})
    assert empty.status_code == 422 and the_case(biz).status == "awaiting_business"
    client.post(f"/dashboard/disputes/{case.id}/answer", base_url=BASE,
                data={"csrf_token": csrf_from(page.data), "action": "decline", "answer": "It was what she chose."})
    assert the_case(biz).status == "escalated"
    login_admin(client, "root@plaza.test")
    queue = client.get("/admin/disputes?kind=refund_request", base_url=APEX).get_data(as_text=True)
    assert "Not as described" in queue or "Service not as described" in queue
    assert "Bella" not in client.get("/admin/disputes?status=closed", base_url=APEX).get_data(as_text=True)


def test_evidence_is_checked_by_content_and_a_refused_file_leaves_nothing(client, ctx):
    biz, bid = paid_booking()
    fake = open_case(client, biz, bid, files=[(io.BytesIO(b"<html>not a photo</html>"), "photo.png")])
    assert fake.status_code == 422 and "only images" in fake.get_data(as_text=True)
    cut = open_case(client, biz, bid, files=[(io.BytesIO(b"%PDF-1.4 truncated"), "x.pdf")])
    assert cut.status_code == 422
    db.session.rollback()
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Dispute)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DisputeEvidence)) == 0


def test_unpaid_booking_cannot_be_disputed(client, ctx):
    biz = setup_business(BusinessPolicy(), ServiceRule(PaymentMode.FULL))
    bid, _ = book_direct(biz, local_start(3, 10))
    make_user("ann@example.com")
    resp = open_case(client, biz, bid)
    assert resp.status_code == 422 and "Only a paid booking" in resp.get_data(as_text=True)


def test_the_worker_reminds_before_the_deadline_and_escalates_after_it(client, ctx):
    biz, bid = paid_booking()
    open_case(client, biz, bid)
    case = the_case(biz)
    due = case.business_due_at
    with tenant_scope(biz.tenant_id):
        assert enforce_deadlines(due - timedelta(hours=30)) == {"escalated": 0, "reminded": 0}
        assert enforce_deadlines(due - timedelta(hours=5)) == {"escalated": 0, "reminded": 1}
        assert enforce_deadlines(due - timedelta(hours=4)) == {"escalated": 0, "reminded": 0}  # once
    db.session.commit()
    assert the_case(biz).status == "awaiting_business"
    with tenant_scope(biz.tenant_id):
        db.session.execute(sa.update(Dispute).values(business_due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    assert periodic_deadlines() == 1
    assert the_case(biz).status == "escalated"
    assert periodic_deadlines() == 0
    # The business can no longer answer.
    login_as(client, biz.owner_email, host="bella.localhost")
    page = client.get(f"/dashboard/disputes/{case.id}", base_url=BASE).get_data(as_text=True)
    assert "Send answer" not in page and "platform is deciding" in page
    assert uuid.UUID(str(case.id))


def test_other_people_get_404_on_every_case_route_and_plain_staff_403_on_answering(client, ctx):
    other = make_business("fixit", owner_email="owner@fixit.test")
    make_user("ann2@example.com")
    biz, bid = paid_booking()
    open_case(client, biz, bid)
    case = the_case(biz)
    routes = [("get", "/admin/disputes"), ("get", f"/admin/disputes/{biz.tenant_id}/{case.id}"),
              ("post", f"/admin/disputes/{biz.tenant_id}/{case.id}/decide")]
    for email in ("ann@example.com", biz.owner_email):
        login_as(client, email)
        token = csrf_from(client.get("/account/bookings", base_url=APEX).data)
        for method, url in routes:
            data = {"csrf_token": token, "decision": "full_refund", "reason": "x"} if method == "post" else None
            assert getattr(client, method)(url, base_url=APEX, data=data).status_code == 404, (email, url)
    # Another business's owner: the case does not exist on their host.
    login_as(client, other.owner_email, host="fixit.localhost")
    assert client.get(f"/dashboard/disputes/{case.id}", base_url="http://fixit.localhost").status_code == 404
    assert "Ann Customer" not in client.get("/dashboard/disputes", base_url="http://fixit.localhost").get_data(
        as_text=True)
    login_as(client, "ann2@example.com")
    assert client.get(f"/account/cases/{other.tenant_id}/{case.id}", base_url=APEX).status_code == 404
    # The manage page links the customer to the page of the booking's cases.
    with tenant_scope(biz.tenant_id):
        token = manage_token(db.session.scalar(sa.select(Booking).where(Booking.id == bid)))
    manage = client.get(f"/manage/{token}", base_url=BASE).get_data(as_text=True)
    assert f"/account/bookings/{biz.tenant_id}/{bid}/problem" in manage
