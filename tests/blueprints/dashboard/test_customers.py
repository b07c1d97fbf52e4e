"""The dashboard's customer pages (CRM) as staff use them: the list with search as you type and
paging, a customer's page (bookings, visits, no-shows, spend, consent, notes, tags), contact
edits with inline errors, and the managers' merge, export and erase (audited, with the owner's
audit log); who may open what."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.booking.models import Booking, BookingStatus, Customer
from app.customers.models import CustomerNote, CustomerTag
from app.extensions import db
from app.identity.service import find_user
from app.tenants.context import tenant_scope
from app.tenants.models import Role
from app.tenants.service import add_membership
from tests.customers.crm_support import book, customer
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

HOST = "bella.localhost"
BASE = f"http://{HOST}"
HX = {"HX-Request": "true"}


@pytest.fixture
def bella(ctx):
    """Bella with an owner, a manager, a stylist (plain staff) and three customers."""
    biz = make_business("bella", staff=3)
    make_user("manager@bella.test")
    make_user("stylist@bella.test")
    with tenant_scope(biz.tenant_id):
        add_membership(find_user("manager@bella.test"), Role.MANAGER)
        add_membership(find_user("stylist@bella.test"), Role.STAFF, staff_member_id=biz.staff_ids[1])
        book(biz, "Anna Berg", "anna@x.test", days=-6, phone="+4512345678", status=BookingStatus.COMPLETED)
        book(biz, "Anna Berg", "anna@x.test", days=-2, index=1, status=BookingStatus.NO_SHOW)
        book(biz, "Anna Berg", "anna@x.test", days=4, index=2)
        book(biz, "Bo Dahl", "bo@x.test", days=5, index=3)
        book(biz, "A. Berg", "a.berg@work.test", days=6, index=4, phone="+4587654321")
    db.session.commit()
    return biz


def _client(app, email: str):
    client = app.test_client()
    login_as(client, email, host=HOST)
    return client


def _get(client, path: str, **kw):
    return client.get(path, base_url=BASE, **kw)


def _post(client, path: str, data: dict | None = None, **kw):
    token = csrf_from(_get(client, "/dashboard/customers").data)
    return client.post(path, base_url=BASE, data={"csrf_token": token, **(data or {})}, **kw)


def _id(biz, email: str) -> str:
    with tenant_scope(biz.tenant_id):
        return str(customer(email).id)


def test_staff_search_the_list_as_they_type(app, bella):
    client = _client(app, "stylist@bella.test")
    page = _get(client, "/dashboard/customers")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'href="/dashboard/customers"' in text  # the nav link
    assert text.index("Anna Berg") < text.index("Bo Dahl") and "a.berg@work.test" in text
    found = _get(client, "/dashboard/customers?q=5678", headers=HX)
    body = found.get_data(as_text=True)
    assert found.status_code == 200 and "<html" not in body and 'id="customer-results"' in body
    assert "Anna Berg" in body and "Bo Dahl" not in body and "A. Berg" not in body
    none = _get(client, "/dashboard/customers?q=zzz", headers=HX).get_data(as_text=True)
    assert "No customer matches" in none
    assert "Audit log" not in text  # owners only


def test_a_customer_page_shows_history_stats_and_takes_notes_and_tags(app, bella):
    client = _client(app, "stylist@bella.test")
    cid = _id(bella, "anna@x.test")
    page = _get(client, f"/dashboard/customers/{cid}").get_data(as_text=True)
    assert "Anna Berg" in page and "Upcoming" in page and "Past" in page
    assert "No-shows" in page and "500,00" in page  # one completed visit, DKK 500
    assert "Guest" in page  # no account: no marketing consent
    assert "Merge duplicate" not in page and "Erase data" not in page  # plain staff
    with tenant_scope(bella.tenant_id):
        booking_id = db.session.scalar(sa.select(Booking.id).where(Booking.customer_id == customer("anna@x.test").id)
                                       .limit(1))
    detail = _get(client, f"/dashboard/bookings/{booking_id}").get_data(as_text=True)
    assert f'href="/dashboard/customers/{cid}"' in detail  # from a booking to its customer's page
    added = _post(client, f"/dashboard/customers/{cid}/notes", {"body": "Likes a quiet chair"}, headers=HX)
    assert added.status_code == 200 and "Likes a quiet chair" in added.get_data(as_text=True)
    empty = _post(client, f"/dashboard/customers/{cid}/notes", {"body": "  "}, headers=HX)
    assert empty.status_code == 422 and "Write a note first." in empty.get_data(as_text=True)
    tagged = _post(client, f"/dashboard/customers/{cid}/tags", {"tag": "VIP"}, headers=HX)
    assert tagged.status_code == 200 and "VIP" in tagged.get_data(as_text=True)
    with tenant_scope(bella.tenant_id):
        note = db.session.scalar(sa.select(CustomerNote))
        tag = db.session.scalar(sa.select(CustomerTag))
        assert note.author_name and note.created_at is not None
    removed = _post(client, f"/dashboard/customers/{cid}/tags/{tag.id}/delete", headers=HX)
    assert removed.status_code == 200 and ">VIP" not in removed.get_data(as_text=True)
    assert _post(client, f"/dashboard/customers/{cid}/tags/{tag.id}/delete", headers=HX).status_code == 404
    plain = _post(client, f"/dashboard/customers/{cid}/notes", {"body": "Second"})
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/dashboard/customers/{cid}")


def test_contact_edit_validates_inline_and_is_audited(app, bella):
    client = _client(app, "stylist@bella.test")
    cid = _id(bella, "anna@x.test")
    bad = _post(client, f"/dashboard/customers/{cid}/contact",
                {"name": "Anna", "email": "not-an-email", "phone": "12"}, headers=HX)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Enter a valid email address" in text and 'id="customer-contact"' in text
    taken = _post(client, f"/dashboard/customers/{cid}/contact", {"name": "Anna", "email": "bo@x.test"}, headers=HX)
    assert taken.status_code == 422 and "Merge the two records instead" in taken.get_data(as_text=True)
    ok = _post(client, f"/dashboard/customers/{cid}/contact",
               {"name": "Anna Berg-Lund", "email": "anna@x.test", "phone": "20 12 34 56"})
    assert ok.status_code == 303
    with tenant_scope(bella.tenant_id):
        anna = customer("anna@x.test")
        assert (anna.name, anna.phone) == ("Anna Berg-Lund", "+4520123456")
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "customer.updated"))
        assert entry.after == {"name": "Anna Berg-Lund", "phone": "+4520123456"}
        assert entry.actor_user_id == find_user("stylist@bella.test").id and entry.ip == "127.0.0.1"


def test_manager_merges_a_duplicate_after_a_preview(app, bella):
    client = _client(app, "manager@bella.test")
    keep, dup = _id(bella, "anna@x.test"), _id(bella, "a.berg@work.test")
    pick = _get(client, f"/dashboard/customers/{keep}/merge?q=work", headers=HX).get_data(as_text=True)
    assert "a.berg@work.test" in pick and "anna@x.test" not in pick
    preview = _get(client, f"/dashboard/customers/{keep}/merge?other={dup}").get_data(as_text=True)
    assert "Moves 1 booking" in preview and "Merge into Anna Berg" in preview
    missing = _post(client, f"/dashboard/customers/{keep}/merge", {"other": ""})
    assert missing.status_code == 422 and "Pick the duplicate record first." in missing.get_data(as_text=True)
    merged = _post(client, f"/dashboard/customers/{keep}/merge", {"other": dup, "reason": "same person"})
    assert merged.status_code == 303
    with tenant_scope(bella.tenant_id):
        assert db.session.scalar(sa.select(Customer).where(Customer.email == "a.berg@work.test")) is None
        anna = customer("anna@x.test")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)
                                 .where(Booking.customer_id == anna.id)) == 4
        assert db.session.scalar(sa.select(AuditEntry.reason).where(AuditEntry.action == "customer.merged")) \
            == "same person"
    assert _get(client, f"/dashboard/customers/{dup}").status_code == 404


def test_manager_exports_and_erases_with_a_typed_reason(app, bella):
    client = _client(app, "manager@bella.test")
    cid = _id(bella, "anna@x.test")
    export = _post(client, f"/dashboard/customers/{cid}/export")
    assert export.status_code == 200 and export.mimetype == "application/json"
    assert "attachment" in export.headers["Content-Disposition"]
    data = json.loads(export.get_data(as_text=True))
    assert data["profile"]["email"] == "anna@x.test" and len(data["bookings"]) == 3
    assert {"notes", "messages", "payments", "marketing_consent", "tags"} <= set(data)
    confirm = _get(client, f"/dashboard/customers/{cid}/erase").get_data(as_text=True)
    assert "Reason for erasing" in confirm and "cannot be undone" in confirm
    assert "1 upcoming booking" in confirm  # she is still booked in 4 days
    refused = _post(client, f"/dashboard/customers/{cid}/erase", {"reason": "", "confirm": "y"}, headers=HX)
    assert refused.status_code == 422 and "Type why" in refused.get_data(as_text=True)
    unconfirmed = _post(client, f"/dashboard/customers/{cid}/erase", {"reason": "Asked by email"}, headers=HX)
    assert unconfirmed.status_code == 422 and "Tick the box" in unconfirmed.get_data(as_text=True)
    with tenant_scope(bella.tenant_id):
        assert customer("anna@x.test") is not None  # nothing written by the refusals
    erased = _post(client, f"/dashboard/customers/{cid}/erase", {"reason": "Asked by email", "confirm": "y"})
    assert erased.status_code == 303
    page = _get(client, f"/dashboard/customers/{cid}").get_data(as_text=True)
    assert "Deleted customer" in page and "anna@x.test" not in page and "Erase data" not in page
    assert "Anna Berg" not in _get(client, "/dashboard/customers").get_data(as_text=True)
    with tenant_scope(bella.tenant_id):
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
        assert {"customer.exported", "customer.erased"} <= actions
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 5


def test_only_owners_read_the_audit_log(app, bella):
    manager = _client(app, "manager@bella.test")
    cid = _id(bella, "bo@x.test")
    _post(manager, f"/dashboard/customers/{cid}/export")
    assert _get(manager, "/dashboard/audit").status_code == 403
    owner = _client(app, "owner@bella.test")
    assert "Audit log" in _get(owner, "/dashboard/customers").get_data(as_text=True)
    log = _get(owner, "/dashboard/audit")
    text = log.get_data(as_text=True)
    assert log.status_code == 200 and "Exported a customer" in text and "Test User" in text and "127.0.0.1" in text
    assert "Bo Dahl" in text  # the record it was about


def test_plain_staff_cannot_merge_export_or_erase_and_outsiders_see_nothing(app, bella):
    stylist = _client(app, "stylist@bella.test")
    cid, other = _id(bella, "anna@x.test"), _id(bella, "bo@x.test")
    assert _get(stylist, f"/dashboard/customers/{cid}/merge").status_code == 403
    assert _post(stylist, f"/dashboard/customers/{cid}/merge", {"other": other}).status_code == 403
    assert _post(stylist, f"/dashboard/customers/{cid}/export").status_code == 403
    assert _post(stylist, f"/dashboard/customers/{cid}/erase", {"reason": "x", "confirm": "y"}).status_code == 403
    make_user("owner@fixit.test")
    fixit = make_business("fixit", owner_email="owner@fixit.test")
    assert fixit
    outsider = _client(app, "owner@fixit.test")
    assert _get(outsider, "/dashboard/customers").status_code == 404
    assert _get(outsider, f"/dashboard/customers/{cid}").status_code == 404
    owner = _client(app, "owner@bella.test")
    assert _get(owner, "/dashboard/customers/not-a-uuid").status_code == 404
    with tenant_scope(bella.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 3
