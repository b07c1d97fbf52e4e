"""The platform console exists only for platform admins, on the apex: everyone else gets 404."""

from __future__ import annotations

import pytest

from tests.factories import make_business, make_user
from tests.helpers import login_as

pytestmark = pytest.mark.integration

APEX = "http://localhost"


def test_the_console_answers_404_to_everyone_but_a_platform_admin_on_the_apex(client, ctx):
    biz = make_business("bella")
    make_user("customer@example.com")
    make_user("root@plaza.test", is_platform_admin=True)
    assert client.get("/admin/", base_url=APEX).status_code == 404  # signed out
    for email in ("customer@example.com", biz.owner_email):
        login_as(client, email)
        assert client.get("/admin/", base_url=APEX).status_code == 404
    login_as(client, "root@plaza.test")
    page = client.get("/admin/", base_url=APEX)
    assert page.status_code == 200 and "Platform console" in page.get_data(as_text=True)
    login_as(client, "root@plaza.test", host="bella.localhost")
    assert client.get("/admin/", base_url="http://bella.localhost").status_code == 404  # never on a tenant host
