# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""Server-side login sessions: logout, password change, suspension, "end session" and "log
out other devices" end a session for good (a copied cookie opens nothing afterwards, and its
sockets close); login rotates the session id; the account page lists where one is logged in."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator

import pytest
import redis
import socketio
import sqlalchemy as sa

from app.extensions import db
from app.identity.models import User
from app.identity.service import password_reset_token
from app.identity.sessions import (
    ANONYMOUS_SESSION_SECONDS,
    handle_of,
    index_key,
    record_session,
    touch_session,
)
from app.timeutil import utcnow
from tests.factories import PASSWORD, make_business, make_user
from tests.helpers import csrf_from
from tests.support.chat_fixtures import ChatClient, WebProcess, session_cookie

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"
APEX = "http://localhost"
OWNER = "owner@bella.test"
FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


@pytest.fixture
def bella(app) -> None:
    with app.app_context():
        make_business("bella")
        db.session.remove()


def host_of(base_url: str) -> str:
    return base_url.removeprefix("http://")


def login(app, base_url: str = BELLA, email: str = OWNER, user_agent: str = FIREFOX):
    """A new test client logged in through the login form on ``base_url``; returns it."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    page = client.get("/login", base_url=base_url)
    resp = client.post("/login", base_url=base_url,
                       data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page.data)})
    assert resp.status_code == 302, resp.status_code
    return client


def cookie(client, base_url: str = BELLA) -> str:
    found = client.get_cookie("session", domain=host_of(base_url))
    assert found is not None
    return found.value


def replay(app, value: str, path: str = "/dashboard/", base_url: str = BELLA):
    """GET ``path`` from a fresh client carrying only the copied session cookie ``value``."""
    thief = app.test_client()
    thief.set_cookie("session", value, domain=host_of(base_url))
    return thief.get(path, base_url=base_url)


def refused(resp) -> bool:
    """True when the answer is the login redirect (the session holds no login)."""
    return resp.status_code == 302 and "/login" in resp.headers["Location"]


def post(client, path: str, base_url: str = BELLA, page: str = "/account/sessions", **kw):
    token = csrf_from(client.get(page, base_url=base_url).data)
    return client.post(path, base_url=base_url, data={"csrf_token": token}, **kw)


def redis_of(app) -> redis.Redis:
    return redis.Redis.from_url(app.config["REDIS_URL"])


def test_logout_ends_the_session_for_a_copied_cookie(app, bella):
    client = login(app)
    assert client.get("/dashboard/", base_url=BELLA).status_code == 200
    copied = cookie(client)
    assert replay(app, copied).status_code == 200  # the copy works while the session lives
    resp = post(client, "/logout", page="/dashboard/")
    assert resp.status_code == 302
    assert refused(replay(app, copied))
    assert refused(client.get("/dashboard/", base_url=BELLA))
    assert not redis_of(app).exists(app.config["SESSION_KEY_PREFIX"] + copied)


def test_login_rotates_the_session_id(app, bella):
    client = app.test_client()
    page = client.get("/login", base_url=BELLA)
    before = cookie(client)  # the anonymous session holding the form's CSRF secret
    resp = client.post("/login", base_url=BELLA,
                       data={"email": OWNER, "password": PASSWORD, "csrf_token": csrf_from(page.data)})
    assert resp.status_code == 302
    after = cookie(client)
    assert after != before
    assert not redis_of(app).exists(app.config["SESSION_KEY_PREFIX"] + before)
    assert refused(replay(app, before))
    assert replay(app, after).status_code == 200


def test_password_change_from_another_session_ends_every_session(app, bella):
    laptop = login(app)
    copied = cookie(laptop)
    with app.app_context():
        token = password_reset_token(db.session.scalar(sa.select(User).where(User.email == OWNER)))
        db.session.remove()
    phone = app.test_client()
    form = phone.get(f"/password/reset/{token}", base_url=BELLA)
    resp = phone.post(f"/password/reset/{token}", base_url=BELLA,
                      data={"password": "a-new-long-password", "confirm": "a-new-long-password",
                            "csrf_token": csrf_from(form.data)})
    assert resp.status_code == 302
    assert refused(laptop.get("/dashboard/", base_url=BELLA))
    assert refused(replay(app, copied))
    assert not redis_of(app).exists(app.config["SESSION_KEY_PREFIX"] + copied)


def test_suspension_ends_every_session(app, bella):
    client = login(app)
    copied = cookie(client)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == OWNER))
        user.suspended_at = utcnow()
        db.session.commit()
        user_id = user.id
        db.session.remove()
    assert refused(replay(app, copied))
    r = redis_of(app)
    assert not r.exists(app.config["SESSION_KEY_PREFIX"] + copied)
    assert not r.exists(index_key(user_id))


def test_account_page_lists_sessions_with_browsers_and_ends_one(app, bella):
    laptop = login(app, user_agent=FIREFOX)
    phone = login(app, user_agent=IPHONE)
    phone_cookie = cookie(phone)
    page = laptop.get("/account/sessions", base_url=BELLA)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Firefox on Ubuntu" in html
    assert "Mobile Safari on iPhone" in html
    assert html.count("This device") == 1
    assert "bella.localhost" in html
    ends = re.findall(r'action="/account/sessions/([0-9a-f]{20})/end"', html)
    assert ends == [handle_of(phone_cookie)]  # every other session, never this one
    # This device cannot be ended through the list; an unknown session is a 404.
    assert post(laptop, f"/account/sessions/{handle_of(cookie(laptop))}/end").status_code == 404
    assert post(laptop, "/account/sessions/" + "0" * 20 + "/end").status_code == 404
    # HTMX: the list block comes back without the ended session.
    resp = post(laptop, f"/account/sessions/{ends[0]}/end", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    block = resp.get_data(as_text=True)
    assert 'id="my-sessions"' in block and "<html" not in block
    assert "Mobile Safari" not in block and "Firefox on Ubuntu" in block
    assert refused(phone.get("/dashboard/", base_url=BELLA))
    assert refused(replay(app, phone_cookie))
    assert laptop.get("/dashboard/", base_url=BELLA).status_code == 200


def test_log_out_other_devices_with_a_plain_form(app, bella):
    laptop = login(app)
    phone = login(app, user_agent=IPHONE)
    apex = login(app, base_url=APEX)  # the same person on Plaza itself
    copied = cookie(phone)
    resp = post(laptop, "/account/sessions/end-others")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/account/sessions")
    assert refused(replay(app, copied))
    assert apex.get("/account/bookings", base_url=APEX).status_code == 302
    page = laptop.get("/account/sessions", base_url=BELLA).get_data(as_text=True)
    assert "Every other device is logged out." in page
    assert "/end\"" not in page  # nothing else left to end
    assert laptop.get("/dashboard/", base_url=BELLA).status_code == 200


def test_visitor_sessions_are_kept_a_day_and_logins_the_whole_lifetime(app, bella):
    client = app.test_client()
    page = client.get("/login", base_url=BELLA)
    r = redis_of(app)
    prefix = app.config["SESSION_KEY_PREFIX"]
    assert 0 < r.ttl(prefix + cookie(client)) <= ANONYMOUS_SESSION_SECONDS
    client.post("/login", base_url=BELLA, data={"email": OWNER, "password": PASSWORD,
                                                 "csrf_token": csrf_from(page.data)})
    assert r.ttl(prefix + cookie(client)) > ANONYMOUS_SESSION_SECONDS


def test_last_seen_is_written_at_most_once_a_minute(app, bella):
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == OWNER))
        record_session(user_id, "sid-1", ip="192.0.2.1", user_agent=FIREFOX, host="bella.localhost", now=1000.0)
        assert touch_session(user_id, "sid-1", ip="192.0.2.1", now=1030.0) is False
        assert touch_session(user_id, "sid-1", ip="192.0.2.9", now=1061.0) is True
        assert touch_session(user_id, "sid-2", ip="192.0.2.1", now=1061.0) is None  # never recorded, or ended
        db.session.remove()


def test_session_pages_need_a_login_and_posts_need_csrf(app, bella):
    anonymous = app.test_client()
    resp = anonymous.get("/account/sessions", base_url=BELLA)
    assert refused(resp)
    client = login(app)
    assert client.post("/account/sessions/end-others", base_url=BELLA).status_code == 400
    assert client.get("/account/sessions/end-others", base_url=BELLA).status_code == 405


def run(coro) -> None:
    """Run an async test body on its own event loop in a thread (as the chat tests do)."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="module")
def web(services) -> Iterator[WebProcess]:
    proc = WebProcess(services)
    yield proc
    proc.stop()


def test_socket_of_an_ended_session_disconnects_and_cannot_reconnect(app, web):
    with app.app_context():
        make_user("sam@example.test")
        db.session.remove()
    sid = session_cookie(app, "sam@example.test")
    other = session_cookie(app, "sam@example.test")

    async def body() -> None:
        sock = ChatClient(sid)
        stays = ChatClient(other)
        try:
            await sock.connect(web.url())
            await stays.connect(web.url())
            # End the first session from the account page of a third one (another device).
            manager = login(app, base_url=APEX, email="sam@example.test")
            resp = post(manager, f"/account/sessions/{handle_of(sid)}/end", base_url=APEX)
            assert resp.status_code == 303
            await sock.wait_for(lambda: sock.disconnects >= 1, timeout=10)
            assert stays.sio.connected
            again = ChatClient(sid)
            with pytest.raises(socketio.exceptions.ConnectionError):
                await again.connect(web.url())
            await again.close()
        finally:
            await sock.close()
            await stays.close()

    run(body())
