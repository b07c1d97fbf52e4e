# ruff: noqa: F811 - pytest fixture imported from chat_fixtures
"""Links never come from the request's Host (issue 8 §1).

A Host header is chosen by whoever sends the request. Plaza used to treat any IP literal as
its apex and accept a business host on any port, and built the password-reset link from the
request: a reset asked for with ``Host: <attacker IP>`` emailed the victim a link to the
attacker. Now every host that is not the apex, a business's subdomain or a custom domain on
the public port gets a 404 (except ``/healthz`` and ``/readyz``), and every absolute link is
built from ``PREFERRED_URL_SCHEME``, ``PLATFORM_DOMAIN`` and ``PUBLIC_PORT``, whatever the
request's scheme, host or port.

Mail goes to a real SMTP server (aiosmtpd) through the real queue (rq, run in-process).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import socketio
import sqlalchemy as sa

from app.booking.models import Booking
from app.extensions import db
from app.outbox.relay import relay_outbox
from app.tenants.context import tenant_scope
from app.tenants.models import TenantDomain
from tests.blueprints.realtime.test_chat_realtime import run
from tests.factories import make_business, make_user
from tests.helpers import csrf_from, login_as
from tests.support.chat_fixtures import ChatClient, chat_server  # noqa: F401 - fixture
from tests.support.conftest_mail import html_of, run_jobs, text_of

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
HOSTILE = ["127.0.0.1", "[::1]", "203.0.113.66:8080", "bella.localhost:9999", "localhost:9999", "evil.example",
           "bella.localhost.evil.example"]
DAY = date.today() + timedelta(days=7)
CPH = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def bella(app):
    with app.app_context():
        biz = make_business("bella")
        make_user("ann@example.com")
        db.session.add(TenantDomain(domain="book.bellasalon.dk", tenant_id=biz.tenant_id))
        db.session.commit()
        db.session.remove()
    return biz


def public(app, host: str = "localhost") -> str:
    """``http://<host>:<PUBLIC_PORT>``: what every link must start with under the test settings."""
    return f"http://{host}:{app.config['PUBLIC_PORT']}"


def mailed_links(app, mailbox, to: str) -> list[str]:
    """Deliver queued mail; every http(s) URL in the text and HTML bodies of mail to ``to``."""
    with app.app_context():
        relay_outbox()
        assert run_jobs(app) == []
    urls: list[str] = []
    for msg in mailbox.to(to):
        urls += re.findall(r"https?://[^\s\"'<>]+", text_of(msg) + html_of(msg))
    return urls


def forgot(client, base_url: str, email: str = "ann@example.com", **kw):
    page = client.get("/password/forgot", base_url=base_url, headers=kw.pop("page_headers", {}))
    assert page.status_code == 200
    return client.post("/password/forgot", data={"email": email, "csrf_token": csrf_from(page.data)},
                       base_url=base_url, **kw)


# --------------------------------------------------------------------------- refused hosts


@pytest.mark.parametrize("host", HOSTILE)
def test_hostile_host_gets_404_on_every_route_but_the_probes(client, bella, host):
    for path in ("/", "/login", "/password/forgot", "/signup", "/static/css/app.css", "/dashboard/"):
        resp = client.get(path, headers={"Host": host})
        assert resp.status_code == 404, (path, resp.status_code)
    api = client.get("/api/v1/services", headers={"Host": host})
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert client.post("/webhooks/stripe", data=b"{}", headers={"Host": host}).status_code == 404
    assert client.get("/healthz", headers={"Host": host}).status_code == 200
    assert client.get("/readyz", headers={"Host": host}).status_code == 200


def test_served_hosts_still_answer(app, client, bella):
    port = app.config["PUBLIC_PORT"]
    for host in ("localhost", f"localhost:{port}", "www.localhost", "bella.localhost", f"bella.localhost:{port}",
                 "Bella.LocalHost", "book.bellasalon.dk", f"book.bellasalon.dk:{port}"):
        assert client.get("/login", headers={"Host": host}).status_code == 200, host
        assert client.get("/static/css/app.css", headers={"Host": host}).status_code == 200, host
    assert client.get("/api/v1/services", headers={"Host": f"bella.localhost:{port}"}).status_code == 200


def test_the_internal_port_is_served_too(app, client, bella, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_PORT", 443)
    assert client.get("/login", headers={"Host": "bella.localhost:8000"}).status_code == 404
    monkeypatch.setitem(app.config, "PORT", 8000)  # behind a proxy: gunicorn -b :$PORT
    assert client.get("/login", headers={"Host": "bella.localhost:8000"}).status_code == 200
    assert client.get("/login", headers={"Host": "bella.localhost:443"}).status_code == 200
    assert client.get("/login", headers={"Host": "bella.localhost:8001"}).status_code == 404


def test_reset_asked_for_under_a_hostile_host_sends_nothing(app, client, bella, mailbox):
    # The attacker fetches a form (and its session cookie) from the real site, then posts it
    # with their own Host, so the CSRF check passes and only the host rule can stop it.
    page = client.get("/password/forgot")
    cookie = client.get_cookie("session", domain="localhost")
    attacker = app.test_client(use_cookies=False)
    for host in HOSTILE:
        resp = attacker.post("/password/forgot", data={"email": "ann@example.com", "csrf_token": csrf_from(page.data)},
                           headers={"Host": host, "Cookie": f"session={cookie.value}"})
        assert resp.status_code == 404, host
    assert mailed_links(app, mailbox, "ann@example.com") == []


# --------------------------------------------------------------------------- links from configuration


def test_reset_link_carries_the_configured_domain_and_port_whatever_the_request(app, client, bella, mailbox):
    https = {"headers": {"Referer": "https://localhost/password/forgot"}}  # Flask-WTF checks it over https
    assert forgot(client, "https://localhost", **https).status_code == 200  # scheme and port differ from config
    links = mailed_links(app, mailbox, "ann@example.com")
    assert links and all(u.startswith(f"{public(app)}/password/reset/") for u in links), links

    mailbox.messages.clear()
    assert forgot(client, "http://book.bellasalon.dk").status_code == 200  # a custom domain: links use the slug host
    links = mailed_links(app, mailbox, "ann@example.com")
    assert links and all(u.startswith(f"{public(app, 'bella.localhost')}/password/reset/") for u in links), links
    token = links[0].rsplit("/", 1)[1]
    assert client.get(f"/password/reset/{token}", base_url=public(app, "bella.localhost")).status_code == 200


def test_production_settings_give_https_links_without_a_port(app, client, bella, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "PREFERRED_URL_SCHEME", "https")
    monkeypatch.setitem(app.config, "PUBLIC_PORT", 443)
    assert forgot(client, "http://localhost").status_code == 200
    links = mailed_links(app, mailbox, "ann@example.com")
    assert links and all(u.startswith("https://localhost/password/reset/") for u in links), links


def test_verification_and_signup_handoff_are_built_from_configuration(app, client, bella, mailbox):
    base = "https://localhost"
    page = client.get("/signup", base_url=base)
    resp = client.post("/signup", base_url=base, headers={"Referer": f"{base}/signup"}, data={
        "business_name": "Nordic Nails", "slug": "nordic-nails", "timezone": "Europe/Copenhagen", "currency": "DKK",
        "category": "", "owner_name": "Nina Nielsen", "email": "nina@example.com", "password": "a-long-password",
        "csrf_token": csrf_from(page.data)})
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith(f"{public(app, 'nordic-nails.localhost')}/auth/handoff?token=")
    links = mailed_links(app, mailbox, "nina@example.com")
    assert links and all(u.startswith(f"{public(app, 'nordic-nails.localhost')}/verify-email/") for u in links)

    # A customer signing up on a business's host gets the link on that business's host.
    page = client.get("/signup-customer", base_url="https://bella.localhost")
    resp = client.post("/signup-customer", base_url="https://bella.localhost",
                       headers={"Referer": "https://bella.localhost/signup-customer"},
                       data={"name": "Cleo", "email": "cleo@example.com", "password": "a-long-password",
                             "csrf_token": csrf_from(page.data)})
    assert resp.status_code == 200 and "check your email" in resp.get_data(as_text=True).lower()
    links = mailed_links(app, mailbox, "cleo@example.com")
    assert links and all(u.startswith(f"{public(app, 'bella.localhost')}/verify-email/") for u in links), links


def test_staff_invitation_link_is_built_from_configuration(app, client, bella, mailbox):
    login_as(client, bella.owner_email, host="bella.localhost")
    page = client.get(f"/dashboard/staff/{bella.staff_ids[0]}", base_url="https://bella.localhost")
    resp = client.post(f"/dashboard/staff/{bella.staff_ids[0]}/invite", base_url="https://bella.localhost",
                       headers={"Referer": "https://bella.localhost/dashboard/"},
                       data={"csrf_token": csrf_from(page.data), "email": "sam@example.com", "role": "staff"})
    assert resp.status_code == 303
    links = mailed_links(app, mailbox, "sam@example.com")
    assert links and all(u.startswith(f"{public(app, 'bella.localhost')}/invite/") for u in links), links


def _book_body(biz) -> dict:
    return {"service_id": str(biz.service_ids[0]), "staff_id": str(biz.staff_ids[0]),
            "start": datetime.combine(DAY, time(10), tzinfo=CPH).isoformat(),
            "customer": {"name": "Alice Andersen", "email": "alice@example.com"}}


def test_api_booking_and_its_confirmation_email_link_to_the_configured_host(app, client, bella, mailbox):
    refused = client.post("/api/v1/bookings", json=_book_body(bella), headers={"Host": "bella.localhost:9999"})
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    with app.app_context(), tenant_scope(bella.tenant_id):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0

    resp = client.post("/api/v1/bookings", json=_book_body(bella), base_url="https://book.bellasalon.dk")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.get_json()
    bella_url = public(app, "bella.localhost")
    assert data["manage_url"].startswith(f"{bella_url}/manage/")
    assert resp.headers["Location"] == f"{bella_url}/api/v1/bookings/{data['id']}"
    doc = client.get("/api/v1/openapi.json", base_url="https://book.bellasalon.dk").get_json()
    assert doc["servers"] == [{"url": f"{bella_url}/api/v1"}]

    links = mailed_links(app, mailbox, "alice@example.com")
    assert any(u.startswith(f"{bella_url}/manage/") for u in links), links
    assert links and all(u.startswith(f"{bella_url}/") for u in links), links


def test_storefront_confirmation_page_shows_the_configured_manage_link(app, client, bella):
    resp = client.post("/api/v1/bookings", json=_book_body(bella), base_url="http://bella.localhost")
    manage = resp.get_json()["manage_url"]
    token = manage.rsplit("/", 1)[1]
    html = client.get(f"/booked/{token}", base_url="https://book.bellasalon.dk").get_data(as_text=True)
    assert manage in html
    assert "book.bellasalon.dk" not in html and "https://" not in html.split("</head>")[1]


def test_socket_handshake_applies_the_same_host_rule(app, client, bella, chat_server):
    resp = client.post("/api/v1/bookings", json=_book_body(bella), base_url="http://bella.localhost")
    token = resp.get_json()["manage_url"].rsplit("/", 1)[1]
    url = chat_server.url()  # the right server; the Host header below is what varies

    async def connects(host: str, origin: str | None = None) -> bool:
        guest = ChatClient(origin=origin)
        guest.headers["Host"] = host
        try:
            await guest.sio.connect(url, headers=guest.headers, auth={"manage_token": token},
                                    transports=["websocket"], wait_timeout=5)
            return guest.sio.connected
        except socketio.exceptions.ConnectionError:
            return False
        finally:
            await guest.close()

    async def body() -> None:
        good = f"bella.localhost:{chat_server.port}"
        assert await connects(good, origin=f"http://{good}")
        for host in ("bella.localhost:9999", f"127.0.0.1:{chat_server.port}", f"[::1]:{chat_server.port}"):
            assert not await connects(host), host
            assert not await connects(host, origin=f"http://{host}"), host

    run(body())


# --------------------------------------------------------------------------- it stays so


def test_no_link_in_app_is_built_from_the_request():
    """``_external=True``, ``request.host_url``/``url_root``/``scheme`` build links from the
    request: use :mod:`app.tenants.urls`. ``request.host`` may only be read to resolve and log it
    (and to show, in the list of login sessions, which host a session was used on)."""
    forbidden = re.compile(r"\b_external|host_url|url_root|request\.scheme|request\.host\b")
    allowed = {Path("app/__init__.py"), Path("app/blueprints/realtime/connect.py"), Path("app/identity/sessions.py")}
    found, host_reads = [], []
    for path in sorted((ROOT / "app").rglob("*")):
        rel = path.relative_to(ROOT)
        if path.suffix not in {".py", ".html", ".txt"} or "static" in rel.parts:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if forbidden.search(line):
                (host_reads if rel in allowed else found).append(f"{rel}:{n}: {line.strip()}")
    assert found == [], found
    assert host_reads and all("request.host" in line and "_external" not in line and "host_url" not in line
                              for line in host_reads), host_reads


def test_tenant_url_and_external_url_use_only_configuration(app, monkeypatch):
    from app.tenants.urls import external_url, host_label, platform_url, tenant_url

    with app.test_request_context("/", base_url="https://203.0.113.66:8080"):
        monkeypatch.setitem(app.config, "PUBLIC_PORT", 8443)
        monkeypatch.setitem(app.config, "PREFERRED_URL_SCHEME", "https")
        monkeypatch.setitem(app.config, "PLATFORM_DOMAIN", "plaza.example")
        assert platform_url("/x?y=1") == "https://plaza.example:8443/x?y=1"
        assert tenant_url("bella") == "https://bella.plaza.example:8443/"
        assert host_label(None) == "plaza.example:8443"
        assert external_url("auth.reset", tenant="bella", token="t") == "https://bella.plaza.example:8443/password/reset/t"
        assert external_url("auth.handoff", token="a b", next="/dashboard/") == (
            "https://plaza.example:8443/auth/handoff?token=a+b&next=/dashboard/")
        monkeypatch.setitem(app.config, "PUBLIC_PORT", 443)
        assert tenant_url("bella", "manage/x") == "https://bella.plaza.example/manage/x"


def test_malformed_or_literal_hosts_are_refused_before_any_lookup(app):
    from app.tenants.errors import HostRefused
    from app.tenants.resolve import check_host

    with app.app_context():
        for host in ("", ":5000", "localhost:", "localhost:abc", "localhost:0", "localhost:70000", "::1", "[::1",
                     "[::1]x", "a b.localhost", "bella_x.localhost", "127.0.0.1:5000", "[::ffff:127.0.0.1]:5000"):
            with pytest.raises(HostRefused):
                check_host(host)
