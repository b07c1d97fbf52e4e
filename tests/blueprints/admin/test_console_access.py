"""The platform console exists only for platform admins, on the apex: everyone else gets 404 on
every /admin route (enumerated from the URL map, so other sections' routes are covered too)."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_admin, login_as

pytestmark = pytest.mark.integration

APEX = "http://localhost"


def _sample(rule) -> str:
    """A concrete URL for ``rule`` (placeholder values for its variables)."""
    values = {}
    for name in rule.arguments:
        converter = type(rule._converters[name]).__name__  # noqa: SLF001 - the test reads werkzeug's parsed rule
        values[name] = (uuid.UUID(int=1) if converter == "UUIDConverter"
                        else 1 if converter in ("IntegerConverter", "FloatConverter") else "x")
    return rule.build(values, append_unknown=False)[1]


def _admin_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule == "/admin" or rule.rule.startswith("/admin/"):
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                routes.append((method, _sample(rule)))
    return routes


def test_the_console_answers_404_to_everyone_but_a_platform_admin_on_the_apex(app, client, ctx):
    biz = make_business("bella")
    make_user("customer@example.com")
    make_user("root@plaza.test", is_platform_admin=True)
    routes = _admin_routes(app)
    assert ("GET", "/admin/") in routes and ("POST", "/admin/second-factor") in routes
    for who in (None, "customer@example.com", biz.owner_email):
        if who is None:
            token = csrf_from(client.get("/login", base_url=APEX).data)
        else:
            login_as(client, who)
            token = csrf_from(client.get("/account/bookings", base_url=APEX).data)
        for method, url in routes:
            resp = client.open(url, method=method, base_url=APEX, data={"csrf_token": token},
                               headers={"X-CSRFToken": token})
            assert resp.status_code == 404, (who, method, url, resp.status_code)
    login_admin(client, "root@plaza.test")
    page = client.get("/admin/", base_url=APEX)
    assert page.status_code == 200 and "Platform console" in page.get_data(as_text=True)
    login_admin(client, "root@plaza.test", host="bella.localhost")
    for method, url in routes:  # never on a tenant host, not even for an admin
        if method == "GET":
            assert client.get(url, base_url="http://bella.localhost").status_code == 404, url
