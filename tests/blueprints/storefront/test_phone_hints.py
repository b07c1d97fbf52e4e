"""Phone numbers on the booking details step follow the business's country: the placeholder and
hint show one of its numbers, numbers without a country code are read as its own, and a
signed-in customer finds the phone of their latest record here already filled in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.booking.models import Customer
from app.extensions import db
from app.identity.service import find_user
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

BASE = "http://bella.localhost"


def _start(tz: str, days: int = 2, hour: int = 10) -> str:
    zone = ZoneInfo(tz)
    day = datetime.now(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _details_url(biz, tz: str) -> str:
    return f"/book/{biz.service_ids[0]}/details?staff=any&start={_start(tz)}&tz={tz}"


def _phone_input(html: str) -> str:
    return re.search(r'<input[^>]*name="phone"[^>]*>', html).group(0)


@pytest.mark.parametrize(("timezone", "example"), [("Europe/London", "07400 123456"),
                                                   ("Europe/Copenhagen", "34 41 23 45")])
def test_placeholder_and_hint_come_from_the_business_country(app, ctx, timezone, example):
    biz = make_business("bella", timezone=timezone)
    html = app.test_client().get(_details_url(biz, timezone), base_url=BASE).get_data(as_text=True)
    assert f'placeholder="{example}"' in _phone_input(html)
    assert f"For example {example}." in html
    assert "+45 12 34 56 78" not in html  # the old Danish placeholder, whatever the country


def test_country_set_in_settings_wins_over_the_time_zone(app, ctx):
    biz = make_business("bella", timezone="UTC", currency="GBP")
    with tenant_scope(biz.tenant_id):
        db.session.get(Tenant, biz.tenant_id).country = "GB"
        db.session.commit()
    client = app.test_client()
    html = client.get(_details_url(biz, "Europe/London"), base_url=BASE).get_data(as_text=True)
    assert 'placeholder="07400 123456"' in _phone_input(html)
    # A national UK number is read as British.
    token = csrf_from(html)
    resp = client.post(f"/book/{biz.service_ids[0]}/details", base_url=BASE, data={
        "csrf_token": token, "staff": "any", "start": _start("Europe/London"), "tz": "Europe/London",
        "name": "Ann Customer", "email": "ann@example.com", "phone": "07400 123456"})
    assert resp.status_code == 200
    assert "+447400123456" in resp.get_data(as_text=True)


def test_signed_in_customer_finds_their_phone_filled_in(app, ctx):
    biz = make_business("bella", timezone="Europe/London", currency="GBP")
    make_user("ann@example.com", name="Ann Customer")
    user = find_user("ann@example.com")
    with tenant_scope(biz.tenant_id):
        db.session.add(Customer(name="Ann Customer", email="ann@example.com", phone="+447400123456", user_id=user.id))
        db.session.commit()
    client = app.test_client()
    login_as(client, "ann@example.com", host="bella.localhost")
    html = client.get(_details_url(biz, "Europe/London"), base_url=BASE).get_data(as_text=True)
    assert 'value="07400 123456"' in _phone_input(html)
    assert 'value="ann@example.com"' in html
    # Someone else signed in sees no phone of Ann's.
    make_user("bob@example.com", name="Bob")
    other = app.test_client()
    login_as(other, "bob@example.com", host="bella.localhost")
    html = other.get(_details_url(biz, "Europe/London"), base_url=BASE).get_data(as_text=True)
    assert 'value=""' in _phone_input(html)
    with tenant_scope(biz.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
