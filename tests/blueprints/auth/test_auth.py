"""Accounts on every host: login, logout, password reset, email verification, the login
handoff, suspended accounts, CSRF and rate limits."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.identity.models import User
from tests.factories import PASSWORD, make_business, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

APEX = "http://localhost"
BELLA = "http://bella.localhost"


@contextmanager
def app_ctx(app):
    """An app context for setting up or checking data (never held during requests)."""
    with app.app_context():
        try:
            yield
        finally:
            db.session.rollback()
            db.session.remove()


def user_row(app, email: str) -> User:
    with app_ctx(app):
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user is not None
        db.session.expunge(user)
        return user


def token_from(client, path: str, base_url: str = APEX) -> str:
    resp = client.get(path, base_url=base_url)
    assert resp.status_code == 200, resp.status_code
    return csrf_from(resp.data)


def post_login(client, email: str, password: str, base_url: str = APEX, next_: str | None = None,
               csrf: str | None = None, **kw):
    data = {"email": email, "password": password, "csrf_token": csrf or token_from(client, "/login", base_url)}
    if next_ is not None:
        data["next"] = next_
    return client.post("/login", data=data, base_url=base_url, **kw)


def logged_in(client, base_url: str = APEX) -> bool:
    """True when the client holds a live session on that host (the account page opens)."""
    with client.session_transaction(base_url=base_url) as sess:
        if "_user_id" not in sess:
            return False
    if base_url == APEX:
        return client.get("/account/bookings", base_url=base_url).status_code == 200
    return True


# --- login / logout ---------------------------------------------------------------------------


def test_login_and_logout_on_the_apex(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    page = client.get("/login")
    assert page.status_code == 200
    assert b'name="password"' in page.data
    resp = post_login(client, "ANN@example.com ", PASSWORD)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/account/bookings"
    assert logged_in(client)

    token = csrf_from(client.get("/account/bookings").data)
    resp = client.post("/logout", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    resp = client.get("/account/bookings")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


def test_wrong_password_says_so_without_saying_which(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    resp = post_login(client, "ann@example.com", "not-the-password")
    assert resp.status_code == 422
    assert b"Wrong email or password." in resp.data
    assert b'value="ann@example.com"' in resp.data  # kept
    unknown = post_login(client, "nobody@example.com", "whatever-password")
    assert unknown.status_code == 422
    assert b"Wrong email or password." in unknown.data
    assert not logged_in(client)


def test_login_form_errors_are_beside_fields(app, client):
    resp = post_login(client, "not-an-email", "")
    assert resp.status_code == 422
    assert b"Enter a valid email address" in resp.data
    assert b"Enter your password." in resp.data


@pytest.mark.parametrize("target", [
    "https://evil.example/phish", "//evil.example/x", "/\\evil.example", "http:/evil.example",
    "javascript:alert(1)", "evil.example",
])
def test_next_parameter_cannot_redirect_off_site(app, client, target):
    with app_ctx(app):
        make_user("ann@example.com")
    resp = post_login(client, "ann@example.com", PASSWORD, next_=target)
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/account/bookings"


def test_next_parameter_relative_path_is_followed(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    page = client.get("/login?next=/account/bookings%3Fx%3D1")
    assert b'value="/account/bookings?x=1"' in page.data
    resp = post_login(client, "ann@example.com", PASSWORD, next_="/account/bookings?x=1")
    assert resp.headers["Location"] == "/account/bookings?x=1"


def test_login_on_tenant_host_sends_staff_to_dashboard_and_customers_home(app, client):
    with app_ctx(app):
        make_business("bella")
        make_user("cust@example.com")
    resp = post_login(client, "owner@bella.test", PASSWORD, base_url=BELLA)
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"
    other = app.test_client()
    resp = post_login(other, "cust@example.com", PASSWORD, base_url=BELLA)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"


def test_session_is_per_host(app, client):
    with app_ctx(app):
        make_business("bella")
    post_login(client, "owner@bella.test", PASSWORD, base_url=BELLA)
    with client.session_transaction(base_url=BELLA) as sess:
        assert "_user_id" in sess
    with client.session_transaction(base_url=APEX) as sess:
        assert "_user_id" not in sess


def test_session_cookie_is_httponly_and_lax(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    resp = post_login(client, "ann@example.com", PASSWORD)
    cookie = next(v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


# --- CSRF ----------------------------------------------------------------------------------


def test_login_post_without_csrf_token_is_refused(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    resp = client.post("/login", data={"email": "ann@example.com", "password": PASSWORD})
    assert resp.status_code == 400
    assert b"Form expired" in resp.data
    assert not logged_in(client)
    # The same post with the token from the form works.
    assert post_login(client, "ann@example.com", PASSWORD).status_code == 302


def test_logout_requires_csrf_token(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    login_as(client, "ann@example.com")
    assert client.post("/logout").status_code == 400
    assert logged_in(client)


# --- password reset ---------------------------------------------------------------------------


def _forgot(client, email: str):
    token = token_from(client, "/password/forgot")
    return client.post("/password/forgot", data={"email": email, "csrf_token": token})


def test_forgot_password_answers_the_same_for_known_and_unknown_emails(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    known = _forgot(client, "ann@example.com")
    unknown = _forgot(client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert b"If an account exists for that email address" in known.data
    # The same page, byte for byte, apart from the CSRF token (it carries the second it was made).
    token = re.compile(rb'name="csrf_token" value="[^"]*"|"X-CSRFToken": "[^"]*"')
    assert token.sub(b"", known.data) == token.sub(b"", unknown.data)


def test_password_reset_end_to_end(app, client):
    from app.identity.service import password_reset_token

    with app_ctx(app):
        make_user("ann@example.com")
        user = db.session.scalar(sa.select(User).where(User.email == "ann@example.com"))
        token = password_reset_token(user)
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 200
    csrf = csrf_from(page.data)
    # Too short and mismatched passwords are refused beside their fields.
    bad = client.post(f"/password/reset/{token}", data={"password": "short", "confirm": "short", "csrf_token": csrf})
    assert bad.status_code == 422 and b"Use 10 to 200 characters." in bad.data
    bad = client.post(f"/password/reset/{token}",
                      data={"password": "a-new-password-1", "confirm": "another-one-22", "csrf_token": csrf})
    assert bad.status_code == 422 and b"The two passwords differ." in bad.data
    ok = client.post(f"/password/reset/{token}",
                     data={"password": "a-new-password-1", "confirm": "a-new-password-1", "csrf_token": csrf})
    assert ok.status_code == 302 and ok.headers["Location"] == "/login"
    assert post_login(client, "ann@example.com", PASSWORD).status_code == 422
    assert post_login(client, "ann@example.com", "a-new-password-1").status_code == 302
    # The link works once.
    again = client.get(f"/password/reset/{token}")
    assert again.status_code == 400
    assert b"already been used" in again.data


def test_reset_link_with_bad_signature_is_refused(app, client):
    resp = client.get("/password/reset/not-a-real-token")
    assert resp.status_code == 400
    assert b"not valid" in resp.data


def test_password_change_ends_other_sessions(app, client):
    from app.identity.service import password_reset_token

    with app_ctx(app):
        make_user("ann@example.com")
    laptop, phone = app.test_client(), app.test_client()
    post_login(laptop, "ann@example.com", PASSWORD)
    post_login(phone, "ann@example.com", PASSWORD)
    assert logged_in(laptop) and logged_in(phone)
    with app_ctx(app):
        token = password_reset_token(db.session.scalar(sa.select(User).where(User.email == "ann@example.com")))
    csrf = token_from(laptop, f"/password/reset/{token}")
    resp = laptop.post(f"/password/reset/{token}",
                       data={"password": "a-new-password-1", "confirm": "a-new-password-1", "csrf_token": csrf})
    assert resp.status_code == 302
    resp = phone.get("/account/bookings")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


# --- email verification --------------------------------------------------------------------------


def test_customer_signup_then_email_verification(app, client):
    from app.identity.service import email_verification_token

    csrf = token_from(client, "/signup-customer")
    resp = client.post("/signup-customer", data={"name": "Cleo", "email": "Cleo@Example.com",
                                                 "password": "long-enough-pw", "csrf_token": csrf})
    # The same "check your email" answer as for a registered address (see test_app_isolation).
    assert resp.status_code == 200 and b"Check your email" in resp.data
    assert not logged_in(client)
    user = user_row(app, "cleo@example.com")
    assert user.email_verified_at is None
    post_login(client, "cleo@example.com", "long-enough-pw")
    page = client.get("/account/bookings")
    assert b"Confirm your email address" in page.data

    with app_ctx(app):
        token = email_verification_token(db.session.get(User, user.id))
    resp = client.get(f"/verify-email/{token}")
    assert resp.status_code == 200
    assert b"Email confirmed" in resp.data
    assert user_row(app, "cleo@example.com").email_verified_at is not None
    assert b"Confirm your email address" not in client.get("/account/bookings").data


def test_verification_link_with_bad_token_is_refused(app, client):
    resp = client.get("/verify-email/garbage")
    assert resp.status_code == 400


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "Cleo", "email": "cleo@example.com", "password": "short"}, b"Use 10 to 200 characters."),
    ({"name": "Cleo", "email": "not-an-email", "password": "long-enough-pw"}, b"Enter a valid email address"),
    ({"name": "", "email": "cleo@example.com", "password": "long-enough-pw"}, b"Enter your name."),
])
def test_customer_signup_bad_input(app, client, data, message):
    with app_ctx(app):
        make_user("ann@example.com")
    csrf = token_from(client, "/signup-customer")
    resp = client.post("/signup-customer", data={**data, "csrf_token": csrf})
    assert resp.status_code == 422
    assert message in resp.data
    with app_ctx(app):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


# --- suspended accounts ----------------------------------------------------------------------------


def test_suspended_account_session_ends_on_next_request(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    post_login(client, "ann@example.com", PASSWORD)
    assert client.get("/account/bookings").status_code == 200
    with app_ctx(app):
        db.session.execute(sa.update(User).where(User.email == "ann@example.com")
                           .values(suspended_at=datetime.now(UTC)))
        db.session.commit()
    resp = client.get("/account/bookings")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login")
    # And cannot log in again.
    resp = post_login(client, "ann@example.com", PASSWORD)
    assert resp.status_code == 422
    assert b"suspended" in resp.data


# --- handoff ---------------------------------------------------------------------------------


def test_handoff_logs_in_once_on_its_own_host_only(app, client):
    from app.identity.service import handoff_token

    with app_ctx(app):
        bella = make_business("bella")
        make_business("fixit")
        owner = db.session.scalar(sa.select(User).where(User.email == "owner@bella.test"))
        token = handoff_token(owner, bella.tenant_id)
    # Not valid on another business's host.
    other = app.test_client()
    resp = other.get(f"/auth/handoff?token={token}&next=/dashboard/", base_url="http://fixit.localhost")
    assert resp.status_code == 400
    resp = client.get(f"/auth/handoff?token={token}&next=/dashboard/", base_url=BELLA)
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"
    with client.session_transaction(base_url=BELLA) as sess:
        assert "_user_id" in sess
    # One time only.
    third = app.test_client()
    resp = third.get(f"/auth/handoff?token={token}", base_url=BELLA)
    assert resp.status_code == 400
    with third.session_transaction(base_url=BELLA) as sess:
        assert "_user_id" not in sess


def test_handoff_refuses_off_site_next(app, client):
    from app.identity.service import handoff_token

    with app_ctx(app):
        bella = make_business("bella")
        token = handoff_token(db.session.scalar(sa.select(User).where(User.email == "owner@bella.test")),
                              bella.tenant_id)
    resp = client.get(f"/auth/handoff?token={token}&next=//evil.example/", base_url=BELLA)
    assert resp.status_code == 302 and resp.headers["Location"] == "/dashboard/"


# --- rate limits -------------------------------------------------------------------------------------


def test_login_is_limited_per_ip(app, client):
    csrf = token_from(client, "/login")
    for i in range(15):
        resp = post_login(client, f"user{i}@example.com", "wrong-password", csrf=csrf)
        assert resp.status_code == 422, i
    resp = post_login(client, "someone-else@example.com", "wrong-password", csrf=csrf)
    assert resp.status_code == 429
    assert b"Too many attempts" in resp.data
    # Another IP is not affected.
    resp = post_login(client, "someone-else@example.com", "wrong-password", csrf=csrf,
                      environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert resp.status_code == 422


def test_login_is_limited_per_account_across_ips(app, client):
    with app_ctx(app):
        make_user("ann@example.com")
    csrf = token_from(client, "/login")
    for i in range(15):
        resp = post_login(client, "ann@example.com", "wrong-password", csrf=csrf,
                          environ_base={"REMOTE_ADDR": f"10.0.1.{i + 1}"})
        assert resp.status_code == 422, i
    resp = post_login(client, "Ann@Example.com", PASSWORD, csrf=csrf, environ_base={"REMOTE_ADDR": "10.0.2.1"})
    assert resp.status_code == 429
    assert not logged_in(client)
    # Other accounts from a fresh IP still get through.
    assert post_login(client, "bob@example.com", "x-password", csrf=csrf,
                      environ_base={"REMOTE_ADDR": "10.0.2.2"}).status_code == 422


def test_forgot_password_is_limited_per_account_and_ip(app, client):
    csrf = token_from(client, "/password/forgot")
    for i in range(15):
        resp = client.post("/password/forgot", data={"email": "ann@example.com", "csrf_token": csrf},
                           environ_base={"REMOTE_ADDR": f"10.0.3.{i + 1}"})
        assert resp.status_code == 200, i
    resp = client.post("/password/forgot", data={"email": "ann@example.com", "csrf_token": csrf},
                       environ_base={"REMOTE_ADDR": "10.0.4.1"})
    assert resp.status_code == 429
    for i in range(15):
        client.post("/password/forgot", data={"email": f"u{i}@example.com", "csrf_token": csrf},
                    environ_base={"REMOTE_ADDR": "10.0.5.1"})
    resp = client.post("/password/forgot", data={"email": "new@example.com", "csrf_token": csrf},
                       environ_base={"REMOTE_ADDR": "10.0.5.1"})
    assert resp.status_code == 429


def test_password_reset_is_limited_per_account(app, client):
    from app.identity.service import password_reset_token

    with app_ctx(app):
        make_user("ann@example.com")
        token = password_reset_token(db.session.scalar(sa.select(User).where(User.email == "ann@example.com")))
    csrf = token_from(client, f"/password/reset/{token}")
    for i in range(15):
        resp = client.post(f"/password/reset/{token}", data={"password": "x", "confirm": "y", "csrf_token": csrf},
                           environ_base={"REMOTE_ADDR": f"10.0.6.{i + 1}"})
        assert resp.status_code == 422, i
    resp = client.post(f"/password/reset/{token}",
                       data={"password": "a-new-password-1", "confirm": "a-new-password-1", "csrf_token": csrf},
                       environ_base={"REMOTE_ADDR": "10.0.7.1"})
    assert resp.status_code == 429


def test_rate_limit_page_is_clear(app, client):
    csrf = token_from(client, "/login")
    for _ in range(16):
        resp = post_login(client, "ann@example.com", "wrong-password", csrf=csrf)
    assert resp.status_code == 429
    text = re.sub(r"\s+", " ", resp.data.decode())
    assert "Too many attempts. Please wait a few minutes and try again." in text


def test_an_htmx_request_that_lands_on_login_gets_the_form_not_an_error(client):
    """A dashboard poll after the session ended is redirected to the login page and htmx follows
    it with ``HX-Request``: the answer is the login form block (with its CSRF field), not a 500;
    a wrong password over htmx re-renders the same block with the message."""
    page = client.get("/login", headers={"HX-Request": "true"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="login-form"' in html and 'name="csrf_token"' in html
    assert "<html" not in html
    resp = client.post("/login", headers={"HX-Request": "true"},
                       data={"csrf_token": csrf_from(page.data), "email": "nobody@example.com", "password": "wrong"})
    assert resp.status_code == 422 and 'id="login-form"' in resp.get_data(as_text=True)
