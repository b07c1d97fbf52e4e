"""Every admin session passes a second factor (TOTP or a one-time recovery code) before any
console page; the first time, the admin enrols and gets ten recovery codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db
from app.identity.models import User
from app.identity.totp import AdminTotp, confirm_enrolment, start_enrolment
from app.tenants.context import platform_scope
from app.timeutil import utcnow
from tests.factories import PASSWORD, make_user
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

APEX = "http://localhost"


def _sign_in(client) -> None:
    """A real sign-in with the password (the login form), as a person does it."""
    page = client.get("/login", base_url=APEX)
    resp = client.post("/login", base_url=APEX, data={"csrf_token": csrf_from(page.data), "email": "root@plaza.test",
                                                      "password": PASSWORD})
    assert resp.status_code == 302


def _post_code(client, code: str, next_url: str = "/admin/"):
    page = client.get(f"/admin/second-factor?next={next_url}", base_url=APEX)
    return client.post("/admin/second-factor", base_url=APEX,
                       data={"csrf_token": csrf_from(page.data), "code": code, "next": next_url})


def test_an_admin_enrols_at_the_first_visit_and_gets_ten_recovery_codes(client, ctx):
    make_user("root@plaza.test", is_platform_admin=True)
    login_as(client, "root@plaza.test")
    resp = client.get("/admin/", base_url=APEX)
    assert resp.status_code == 302 and resp.location.endswith("/admin/second-factor?next=/admin/")
    page = client.get("/admin/second-factor?next=/admin/", base_url=APEX).get_data(as_text=True)
    assert "<svg" in page and "otpauth://totp/" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post("/admin/second-factor", base_url=APEX,
                        data={"csrf_token": csrf_from(page), "code": "000000", "next": "/admin/"})
    assert wrong.status_code == 422 and "not right" in wrong.get_data(as_text=True)
    assert client.get("/admin/", base_url=APEX).status_code == 302
    done = client.post("/admin/second-factor", base_url=APEX,
                       data={"csrf_token": csrf_from(page), "code": pyotp.TOTP(secret).now(), "next": "/admin/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.get_data(as_text=True))
    assert len(set(codes)) == 10
    assert client.get("/admin/", base_url=APEX).status_code == 200
    with platform_scope("test"):
        assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.actor_email == "root@plaza.test")) \
            == "admin.second_factor_enrolled"


def _enrolled_admin() -> tuple[str, list[str]]:
    uid = make_user("root@plaza.test", is_platform_admin=True)
    with platform_scope("test"):
        user = db.session.get(User, uid)
        secret = start_enrolment(user).secret
        codes = confirm_enrolment(user, pyotp.TOTP(secret).at(utcnow() - timedelta(minutes=5)),
                                  at=utcnow() - timedelta(minutes=5))
        db.session.commit()
    return secret, codes


def test_every_new_session_needs_a_code_and_a_code_is_accepted_once(client, ctx):
    secret, _ = _enrolled_admin()
    login_as(client, "root@plaza.test")
    assert client.get("/admin/", base_url=APEX).status_code == 302
    code = pyotp.TOTP(secret).now()
    ok = _post_code(client, code)
    assert ok.status_code == 302 and ok.location.endswith("/admin/")
    assert client.get("/admin/", base_url=APEX).status_code == 200
    client.post("/logout", base_url=APEX, data={"csrf_token": csrf_from(client.get("/admin/", base_url=APEX).data)})
    _sign_in(client)  # a new login: the second factor again
    assert client.get("/admin/", base_url=APEX).status_code == 302
    replay = _post_code(client, code)
    assert replay.status_code == 422 and "already used" in replay.get_data(as_text=True)
    assert client.get("/admin/", base_url=APEX).status_code == 302


def test_a_recovery_code_lets_the_admin_in_once(client, ctx):
    _, codes = _enrolled_admin()
    login_as(client, "root@plaza.test")
    assert _post_code(client, codes[3].upper()).status_code == 302
    assert client.get("/admin/", base_url=APEX).status_code == 200
    client.post("/logout", base_url=APEX, data={"csrf_token": csrf_from(client.get("/admin/", base_url=APEX).data)})
    _sign_in(client)
    assert _post_code(client, codes[3]).status_code == 422
    assert _post_code(client, codes[4]).status_code == 302
    with platform_scope("test"):
        used = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "admin.recovery_code_used")
                                  .order_by(AuditEntry.seq)).all()
        assert [e.after["recovery_codes_left"] for e in used] == [9, 8]
        assert db.session.scalar(sa.select(AdminTotp.confirmed_at)) is not None
