"""Dispatch now over HTTP: the customer's /now and status page on the apex, the operator's
page and the on-demand settings in the dashboard; who may see what; inline errors."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.dispatch.models import DispatchOffer, DispatchProfile
from app.extensions import db
from app.identity.service import find_user
from app.tenants.context import platform_scope, tenant_scope
from tests.dispatch.helpers import CITY, customer, make_on_demand, offers_of, request_row
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

LAT, LON = CITY
APEX = "http://localhost"
HX = {"HX-Request": "true"}


@pytest.fixture
def wash(ctx):
    return make_on_demand("wash", ["car-wash"], [("ana@wash.test", LAT + 0.01, LON), ("ben@wash.test", LAT + 0.02, LON)])


def _customer_client(app, email="cust@example.test"):
    customer(email)
    c = app.test_client()
    login_as(c, email)
    return c


def _ask(c, **data):
    token = csrf_from(c.get("/now", base_url=APEX).data)
    return c.post("/now", base_url=APEX, data={"csrf_token": token, **data})


def test_a_customer_asks_and_follows_the_request_to_done(app, wash):
    c = _customer_client(app)
    assert c.get("/now", base_url=APEX).status_code == 200
    resp = _ask(c, service="car-wash", lat=str(LAT), lon=str(LON), address_line="350 5th Ave")
    assert resp.status_code == 303
    page = c.get(resp.headers["Location"], base_url=APEX)
    assert b"Asking Ana nearby" in page.data and b"Cancel request" in page.data
    rid = request_row_id(resp.headers["Location"])

    ana = app.test_client()
    login_as(ana, "ana@wash.test", host="wash.localhost")
    base = "http://wash.localhost"
    panel = ana.get("/dashboard/dispatch", base_url=base)
    assert b"New job: Mobile car wash" in panel.data and b"350 5th Ave" in panel.data
    offer_id = offers_of(rid)[0].id
    token = csrf_from(panel.data)
    resp = ana.post(f"/dashboard/dispatch/offers/{offer_id}/accept", base_url=base, headers=HX,
                    data={"csrf_token": token})
    assert resp.status_code == 200 and b"On the way" in resp.data
    assert b"Ana accepted \xc2\xb7 arriving in about 6 min" in c.get(f"/now/{rid}", base_url=APEX).data
    again = ana.post(f"/dashboard/dispatch/offers/{offer_id}/accept", base_url=base, headers=HX,
                     data={"csrf_token": token})
    assert again.status_code == 409 and b"no longer open" in again.data
    for step, label in (("on_the_way", b"is on the way"), ("arrived", b"has arrived"), ("done", b"Done. Thank you")):
        assert ana.post(f"/dashboard/dispatch/jobs/{rid}/step", base_url=base, headers=HX,
                        data={"csrf_token": token, "step": step}).status_code == 200
        assert label in c.get(f"/now/{rid}", base_url=APEX).data
    assert request_row(rid).status == "done"


def request_row_id(location: str) -> uuid.UUID:
    return uuid.UUID(location.rstrip("/").rsplit("/", 1)[1])


def test_the_customer_cancels_and_the_operator_sees_the_offer_gone(app, wash):
    c = _customer_client(app)
    resp = _ask(c, service="car-wash", lat=str(LAT), lon=str(LON))
    rid = request_row_id(resp.headers["Location"])
    token = csrf_from(c.get(f"/now/{rid}", base_url=APEX).data)
    resp = c.post(f"/now/{rid}/cancel", base_url=APEX, headers=HX, data={"csrf_token": token})
    assert resp.status_code == 200 and b"You cancelled this request" in resp.data
    assert c.post(f"/now/{rid}/cancel", base_url=APEX, headers=HX, data={"csrf_token": token}).status_code == 409
    assert [o.outcome for o in offers_of(rid)] == ["cancelled"]
    ana = app.test_client()
    login_as(ana, "ana@wash.test", host="wash.localhost")
    assert b"New job" not in ana.get("/dashboard/dispatch", base_url="http://wash.localhost").data


def test_bad_input_is_shown_inline_and_writes_nothing(app, wash):
    c = _customer_client(app)
    resp = _ask(c, service="", place="")
    assert resp.status_code == 422 and b"Pick a service." in resp.data
    resp = _ask(c, service="car-wash", place="")
    assert resp.status_code == 422 and b"Share your location, or type a postcode or place." in resp.data
    resp = _ask(c, service="car-wash", place="zzzz-nowhere-qq")
    assert resp.status_code == 422
    with platform_scope("test"):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DispatchOffer)) == 0


def test_a_postcode_is_geocoded_and_nobody_near_means_unfulfilled(app, ctx):
    make_on_demand("wash", ["car-wash"], [("ana@wash.test", 51.5, -0.12)])  # London; the customer is in New York
    c = _customer_client(app)
    resp = _ask(c, service="car-wash", place="10001")
    assert resp.status_code == 303
    page = c.get(resp.headers["Location"], base_url=APEX)
    assert b"nobody is available nearby" in page.data


def test_requests_are_private_and_the_pages_need_the_right_host(app, wash):
    c = _customer_client(app)
    resp = _ask(c, service="car-wash", lat=str(LAT), lon=str(LON))
    url = resp.headers["Location"]
    other = _customer_client(app, "other@example.test")
    assert other.get(url, base_url=APEX).status_code == 404
    assert c.get("/now", base_url="http://wash.localhost").status_code == 404
    anon = app.test_client()
    assert anon.get("/now", base_url=APEX).status_code in (302, 303)
    make_on_demand("rival", ["car-wash"], [("rita@rival.test", LAT + 0.3, LON)])
    rita = app.test_client()
    login_as(rita, "rita@rival.test", host="rival.localhost")
    rbase = "http://rival.localhost"
    token = csrf_from(rita.get("/dashboard/dispatch", base_url=rbase).data)
    offer_id = offers_of(request_row_id(url))[0].id  # Ana's offer, at another business
    for path in (f"offers/{offer_id}/accept", f"offers/{offer_id}/decline", f"jobs/{request_row_id(url)}/step"):
        assert rita.post(f"/dashboard/dispatch/{path}", base_url=rbase, data={"csrf_token": token}).status_code == 404
    assert request_row(request_row_id(url)).status == "offered"


def test_operators_go_online_and_managers_choose_the_services(app, wash):
    owner = app.test_client()
    login_as(owner, "owner@wash.test", host="wash.localhost")
    base = "http://wash.localhost"
    page = owner.get("/dashboard/dispatch/settings", base_url=base)
    assert page.status_code == 200
    token = csrf_from(page.data)
    bad = owner.post("/dashboard/dispatch/settings", base_url=base, headers=HX,
                     data={"csrf_token": token, "enabled": "y"})
    assert bad.status_code == 422 and b"Pick at least one service" in bad.data
    ok = owner.post("/dashboard/dispatch/settings", base_url=base,
                    data={"csrf_token": token, "enabled": "y", "services": ["car-wash", "cleaning"]})
    assert ok.status_code == 303
    with tenant_scope(wash.tenant_id):
        assert db.session.get(DispatchProfile, wash.tenant_id).services == ["car-wash", "cleaning"]
    ana = app.test_client()
    login_as(ana, "ana@wash.test", host="wash.localhost")
    assert ana.get("/dashboard/dispatch/settings", base_url=base).status_code == 403
    token = csrf_from(ana.get("/dashboard/dispatch", base_url=base).data)
    bad = ana.post("/dashboard/dispatch/availability", base_url=base, headers=HX,
                   data={"csrf_token": token, "online": "y", "capacity": "11"})
    assert bad.status_code == 422
    off = ana.post("/dashboard/dispatch/availability", base_url=base, data={"csrf_token": token, "capacity": "2"})
    assert off.status_code == 303
    assert b"You are offline" in ana.get("/dashboard/dispatch", base_url=base).data
    assert find_user("ana@wash.test") is not None
