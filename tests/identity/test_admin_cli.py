"""``flask create-admin EMAIL`` makes a platform admin with a pending second factor, and the demo
admin of ``seed-demo`` has the documented fixed TOTP secret."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.extensions import db
from app.identity.models import User
from app.identity.service import authenticate, find_user
from app.identity.totp import confirm_enrolment, is_enrolled, totp_of, verify_second_factor
from app.tenants.context import platform_scope
from tests.factories import make_user

pytestmark = pytest.mark.integration


def test_create_admin_creates_an_account_with_a_pending_second_factor(app, ctx):
    result = app.test_cli_runner().invoke(args=["create-admin", "Ops@Plaza.test"])
    assert result.exit_code == 0, result.output
    password = re.search(r"Password \(change it after signing in\): (\S+)", result.output).group(1)
    secret = re.search(r"Second factor secret: ([A-Z2-7]+)", result.output).group(1)
    assert f"otpauth://totp/Plaza%20admin:ops%40plaza.test?secret={secret}" in result.output
    with platform_scope("test"):
        user = authenticate("ops@plaza.test", password)
        assert user.is_platform_admin and not is_enrolled(user.id) and totp_of(user.id).secret == secret
        assert len(confirm_enrolment(user, pyotp.TOTP(secret).now())) == 10
        assert db.session.scalar(sa.select(AuditEntry.action).where(AuditEntry.object_id == str(user.id))) \
            == "user.platform_admin_granted"


def test_create_admin_promotes_an_existing_account_without_touching_its_password(app, ctx):
    uid = make_user("someone@example.com")
    result = app.test_cli_runner().invoke(args=["create-admin", "someone@example.com"])
    assert result.exit_code == 0 and "Password" not in result.output
    assert db.session.get(User, uid).is_platform_admin


def test_the_demo_admin_signs_in_with_the_documented_secret(app, ctx):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    secret = app.config["DEMO_ADMIN_TOTP_SECRET"]
    with platform_scope("test"):
        admin = find_user("admin@plaza.test")
        assert is_enrolled(admin.id)
        assert verify_second_factor(admin, pyotp.TOTP(secret).now()) == "totp"
