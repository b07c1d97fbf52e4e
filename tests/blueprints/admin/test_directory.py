"""The console's directory and sanctions over HTTP: what an operator sees and what the
business, its customers and a person notice."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.admin.models import Sanction
from app.audit.models import AuditEntry
from app.extensions import db
from app.marketplace.models import MarketplaceListing
from app.notifications.center_models import Notification
from app.tenants.context import platform_scope
from app.tenants.models import Tenant
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin, login_as, open_with_reason
from tests.support.chat_fixtures import make_booking

pytestmark = pytest.mark.integration

APEX = "http://localhost"


def _admin(client) -> uuid.UUID:
    uid = make_user("root@plaza.test", is_platform_admin=True)
    login_admin(client, "root@plaza.test")
    return uid


def _entries(action: str) -> list[AuditEntry]:
    with platform_scope("test: read the audit log"):
        rows = list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))
        for row in rows:
            db.session.expunge(row)
    db.session.rollback()
    return rows


def _notes(user_id: uuid.UUID, type_key: str) -> list[Notification]:
    with platform_scope("test: read notifications"):
        rows = list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id,
                                                                      Notification.type == type_key)))
        for row in rows:
            db.session.expunge(row)
    db.session.rollback()
    return rows


def test_search_filters_and_paging_find_businesses_and_people(client, ctx):
    make_business("bella")
    make_business("fixit", owner_email="fix@owner.test")
    make_user("anna@example.com", name="Anna Customer")
    _admin(client)
    page = client.get("/admin/businesses", base_url=APEX).get_data(as_text=True)
    assert "Bella" in page and "Fixit" in page
    by_email = client.get("/admin/businesses?q=fix%40owner", base_url=APEX).get_data(as_text=True)
    assert "Fixit" in by_email and "Bella" not in by_email
    by_slug = client.get("/admin/businesses?q=bel&plan=free", base_url=APEX).get_data(as_text=True)
    assert "Bella" in by_slug and "Fixit" not in by_slug
    live = client.get("/admin/businesses?q=fix", base_url=APEX, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert live.lstrip().startswith('<div id="results"') and "Fixit" in live and "Bella" not in live
    none = client.get("/admin/businesses?status=suspended", base_url=APEX).get_data(as_text=True)
    assert "No business matches." in none
    assert "No business matches." in client.get("/admin/businesses?plan=premium", base_url=APEX).get_data(as_text=True)
    people = client.get("/admin/people?q=anna", base_url=APEX).get_data(as_text=True)
    assert "anna@example.com" in people and "owner@bella.test" not in people
    for i in range(26):
        make_user(f"p{i:02d}@many.test")
    first = client.get("/admin/people?q=many.test", base_url=APEX).get_data(as_text=True)
    assert "p00@many.test" in first and "p25@many.test" not in first and "Next" in first
    second = client.get("/admin/people?q=many.test&page=2", base_url=APEX).get_data(as_text=True)
    assert "p25@many.test" in second and "Previous" in second


def test_a_detail_page_asks_for_a_reason_and_logs_every_read(client, ctx):
    biz = make_business("bella")
    make_booking(biz.tenant_id, "cara@example.test")
    _admin(client)
    url = f"/admin/businesses/{biz.tenant_id}"
    assert client.get(url, base_url=APEX).status_code == 302
    assert not _entries("admin.read")
    page = open_with_reason(client, url, "ticket 42")
    assert "owner@bella.test" in page and "<dt>Bookings</dt><dd>1</dd>" in page
    assert "View as this business" in page
    client.get(url, base_url=APEX)  # the reason is remembered; the second read is logged too
    read = _entries("admin.read")
    assert [(e.object_id, e.reason, e.tenant_id) for e in read] == [(str(biz.tenant_id), "ticket 42", biz.tenant_id)] * 2
    missing = client.get(f"/admin/businesses/{uuid.uuid4()}", base_url=APEX)
    assert missing.status_code == 302  # a reason first, even for an unknown id …
    owner = db.session.scalar(sa.text("select id from user_account where email = 'owner@bella.test'"))
    person = open_with_reason(client, f"/admin/people/{owner}", "ticket 43")
    assert "Bella</a> (owner)" in person
    assert [e.reason for e in _entries("admin.read") if e.object_type == "person"] == ["ticket 43"]
    # … and "View as" does not ask again within the half hour.
    assert "read-only" in client.get(f"/admin/view-as/{biz.tenant_id}", base_url=APEX).get_data(as_text=True)


def test_suspending_a_business_makes_it_unavailable_tells_people_and_reinstating_restores_it(client, ctx):
    biz = make_business("bella")
    cara = make_user("cara@example.test")
    for email, user_id, days in (("cara@example.test", cara, 2), ("cara@example.test", cara, 3),
                                 ("guest@example.test", None, 4)):
        make_booking(biz.tenant_id, email, user_id, days=days)
        db.session.remove()
    with platform_scope("test"):
        db.session.add(MarketplaceListing(business_id=biz.tenant_id, slug="bella", name="Bella"))
        db.session.commit()
    assert client.get("/", base_url="http://bella.localhost").status_code == 200
    _admin(client)
    url = f"/admin/businesses/{biz.tenant_id}"
    token = csrf_from(open_with_reason(client, url, "report"))
    empty = client.post(url + "/sanctions", data={"csrf_token": token, "kind": "suspend", "reason": " "},
                        base_url=APEX)
    assert empty.status_code == 422 and "Give a reason" in empty.get_data(as_text=True)
    past = client.post(url + "/sanctions", data={"csrf_token": token, "kind": "suspend", "reason": "Fraud",
                                                 "ends_at": "2020-01-01T10:00"}, base_url=APEX)
    assert past.status_code == 422 and "must be in the future" in past.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sanction)) == 0

    done = client.post(url + "/sanctions", data={"csrf_token": token, "kind": "suspend",
                                                 "reason": "Fake reviews"}, base_url=APEX)
    assert done.status_code == 303
    # The next request to the storefront says it is unavailable; the listing is hidden.
    shop = client.get("/", base_url="http://bella.localhost")
    assert shop.status_code == 404 and "Bella is unavailable" in shop.get_data(as_text=True)
    assert client.get("/api/v1/services", base_url="http://bella.localhost").status_code == 404
    with platform_scope("test"):
        assert db.session.get(MarketplaceListing, biz.tenant_id).suspended is True
    db.session.rollback()
    # The owner is told; the customer with two upcoming bookings once; the audit has before/after.
    owner = db.session.scalar(sa.text("select id from user_account where email = 'owner@bella.test'"))
    assert [n.title for n in _notes(owner, "platform_suspension")] == ["Bella is suspended on Plaza"]
    told = _notes(cara, "business_unavailable")
    assert len(told) == 1 and told[0].count == 1 and "Haircut" in told[0].body
    [entry] = _entries("business.suspended")
    assert entry.reason == "Fake reviews" and entry.before == {"suspended_at": None}
    assert entry.after["suspended_at"] and entry.after["kind"] == "suspend"
    page = client.get(url, base_url=APEX).get_data(as_text=True)
    assert "Suspended since" in page and "Fake reviews" in page
    assert "Bella" in client.get("/admin/businesses?status=suspended", base_url=APEX).get_data(as_text=True)

    refused = client.post(url + "/reinstate", data={"csrf_token": token, "reinstate-reason": ""}, base_url=APEX)
    assert refused.status_code == 422 and "Give a reason." in refused.get_data(as_text=True)
    assert client.get("/", base_url="http://bella.localhost").status_code == 404  # still suspended
    back = client.post(url + "/reinstate", data={"csrf_token": token, "reinstate-reason": "Appeal accepted"},
                       base_url=APEX)
    assert back.status_code == 303
    assert client.get("/", base_url="http://bella.localhost").status_code == 200
    [lifted] = _entries("business.reinstated")
    assert lifted.reason == "Appeal accepted" and lifted.after["suspended_at"] is None
    db.session.expire_all()
    assert db.session.get(Tenant, biz.tenant_id).suspended_at is None


def test_suspending_a_person_signs_them_out_on_their_next_request_and_a_warning_tells_them(client, ctx, mailbox):
    from tests.support.conftest_mail import run_jobs

    anna = make_user("anna@example.com")
    other = client.application.test_client()
    login_as(other, "anna@example.com")
    assert other.get("/account/bookings", base_url=APEX).status_code == 200
    _admin(client)
    url = f"/admin/people/{anna}"
    token = csrf_from(open_with_reason(client, url, "report"))
    warned = client.post(url + "/sanctions", data={"csrf_token": token, "kind": "warn", "reason": "Rude messages"},
                         base_url=APEX)
    assert warned.status_code == 303
    assert other.get("/account/bookings", base_url=APEX).status_code == 200  # a warning does not sign out
    run_jobs(client.application)
    assert mailbox.wait_until(lambda: mailbox.to("anna@example.com", "A warning from Plaza"))
    assert "Rude messages" in mailbox.to("anna@example.com", "A warning from Plaza")[0].get_body(("plain",)).get_content()
    suspended = client.post(url + "/sanctions", data={"csrf_token": token, "kind": "suspend",
                                                      "reason": "Harassment", "ends_at": "2099-01-01T00:00"},
                            base_url=APEX)
    assert suspended.status_code == 303
    assert other.get("/account/bookings", base_url=APEX).status_code in (302, 303)  # signed out: to the login page
    assert "Harassment" in client.get(url, base_url=APEX).get_data(as_text=True)


def test_the_worker_lifts_a_time_limited_suspension_when_it_ends(ctx):
    from datetime import timedelta

    from app.admin import sanctions
    from app.audit.service import AuditActor
    from app.timeutil import utcnow
    from app.uow import unit_of_work

    biz = make_business("bella")
    admin = make_user("root@plaza.test", is_platform_admin=True)
    ends = utcnow() + timedelta(hours=2)
    with unit_of_work():
        sanctions.impose(sanctions.Subject(sanctions.BUSINESS, biz.tenant_id), "suspend", "Cooling off",
                         AuditActor(admin), ends_at=ends)
    assert sanctions.lift_expired(now=utcnow()) == 0
    db.session.commit()
    assert db.session.get(Tenant, biz.tenant_id).suspended_at is not None
    assert sanctions.lift_expired(now=ends + timedelta(seconds=1)) == 1
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Tenant, biz.tenant_id).suspended_at is None
    [entry] = _entries("business.reinstated")
    assert entry.actor_user_id is None and entry.reason == "The sanction ended."


def test_every_directory_route_is_404_for_anyone_but_a_platform_admin(client, ctx):
    biz = make_business("bella")
    anna = make_user("anna@example.com")
    routes = [("get", "/admin/businesses"), ("get", "/admin/people"),
              ("get", f"/admin/businesses/{biz.tenant_id}"), ("get", f"/admin/people/{anna}"),
              ("post", f"/admin/businesses/{biz.tenant_id}/sanctions"),
              ("post", f"/admin/businesses/{biz.tenant_id}/reinstate"),
              ("post", f"/admin/people/{anna}/sanctions"), ("post", f"/admin/people/{anna}/reinstate")]
    for who in (None, "anna@example.com", biz.owner_email):
        if who:
            login_as(client, who)
        token = csrf_from(client.get("/", base_url=APEX).get_data(as_text=True))
        for method, path in routes:
            data = {"csrf_token": token, "kind": "suspend", "reason": "x"} if method == "post" else None
            assert getattr(client, method)(path, data=data, base_url=APEX).status_code == 404, (who, path)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Sanction)) == 0
