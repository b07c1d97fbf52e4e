"""The opt-in on the business settings page ("Take job requests from customers nearby"): only
opted-in businesses make a postcode acceptable in the wizard."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.leads.submit_checks import OutsideServiceArea, locate
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

BASE = "http://cleaners.localhost"
FORM = {"name": "Cleaners", "category": "cleaning", "timezone": "America/New_York", "currency": "USD", "phone": "",
        "public_email": "", "address_line": "", "postcode": "", "city": "", "country": "US", "description": "",
        "service_area": "postcodes", "service_postcodes": "10001"}


def test_the_owner_opts_in_and_out_from_the_business_settings(app, ctx):
    biz = make_business("cleaners", timezone="America/New_York", currency="USD")
    owner = app.test_client()
    login_as(owner, biz.owner_email, host="cleaners.localhost")
    page = owner.get("/dashboard/business", base_url=BASE).get_data(as_text=True)
    assert "Take job requests from customers nearby" in page

    def save(**extra):
        token = csrf_from(owner.get("/dashboard/", base_url=BASE).data)
        return owner.post("/dashboard/business", base_url=BASE, data={"csrf_token": token, **FORM, **extra})

    assert save(accepts_job_requests="y").status_code == 303
    db.session.expire_all()
    with tenant_scope(biz.tenant_id):
        assert db.session.get(Tenant, biz.tenant_id).accepts_job_requests is True
    assert locate("10001", None, None).providers == 1
    box = re.search(r'<input[^>]*name="accepts_job_requests"[^>]*>', owner.get(
        "/dashboard/business", base_url=BASE).get_data(as_text=True)).group(0)
    assert "checked" in box
    assert save().status_code == 303
    db.session.expire_all()
    with pytest.raises(OutsideServiceArea):
        locate("10001", None, None)
