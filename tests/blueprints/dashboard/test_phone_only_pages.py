"""A customer known by phone only, as staff see them: no placeholder or "None" where the email
would be, the contact form takes a phone without an email (and refuses neither), and the booking
page offers no mail link."""

from __future__ import annotations

import re

import pytest

from app.booking.desk import book_by_staff, desk_customer
from app.booking.transitions import Actor
from app.extensions import db
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.blueprints.dashboard.test_desk import BASE, HOST, _day, _utc
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration
HX = {"HX-Request": "true"}


@pytest.fixture
def bella(ctx):
    return make_business("bella")


def test_pages_of_a_phone_only_customer_show_only_the_phone(app, bella):
    with tenant_scope(bella.tenant_id):
        carla = desk_customer("Carla Phone", None, "+4522334455")
        booking = book_by_staff(db.session.get(Tenant, bella.tenant_id), service_id=bella.service_ids[0],
                                staff_id=bella.staff_ids[0], start=_utc(bella, _day(bella), 10), customer=carla,
                                source="phone", actor=Actor("staff"))
        cid, bid = carla.id, booking.id
        db.session.commit()
    client = app.test_client()
    login_as(client, bella.owner_email, host=HOST)
    for path in ("/dashboard/customers", f"/dashboard/customers/{cid}", f"/dashboard/bookings/{bid}",
                 f"/dashboard/?date={_day(bella).isoformat()}&view=day"):
        page = client.get(path, base_url=BASE).get_data(as_text=True)
        assert "+4522334455" in page or "22 33 44 55" in page, path
        assert not re.search(r"\bNone\b(?!\.)", page) and ".invalid" not in page, path  # "None." is a list's empty text
    token = csrf_from(client.get("/dashboard/customers", base_url=BASE).data)
    missing = client.post(f"/dashboard/customers/{cid}/contact", base_url=BASE, headers=HX,
                          data={"csrf_token": token, "name": "Carla", "email": "", "phone": ""})
    assert missing.status_code == 422 and "Enter a phone number or an email address." in missing.get_data(as_text=True)
    ok = client.post(f"/dashboard/customers/{cid}/contact", base_url=BASE,
                     data={"csrf_token": token, "name": "Carla P", "email": "", "phone": "+45 22 33 44 55"})
    assert ok.status_code == 303
