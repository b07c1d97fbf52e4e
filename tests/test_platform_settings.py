"""Platform settings: typed values with defaults, read by every part through ``get_setting``, changed
by an admin through ``set_setting`` with an audit entry (before and after); tenant hosts read them
and never write them."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.service import AuditActor
from app.extensions import db
from app.platform_settings import PlatformSetting, SettingError, all_settings, get_setting, set_setting
from app.tenants.context import platform_scope, tenant_scope
from tests.factories import make_business, make_user
from tests.helpers import tenant_settings

pytestmark = pytest.mark.integration


def _platform_entries() -> list[AuditEntry]:
    with platform_scope("test: read the platform's audit entries"):
        return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.tenant_id.is_(None))))


def test_defaults_apply_until_an_admin_changes_a_value(ctx):
    assert get_setting("dispute_window_days") == 30
    assert get_setting("dispute_business_answer_hours") == 72
    assert get_setting("refund_request_answer_hours") == 72
    assert all_settings()["plan.pro.marketplace_tier"] == "featured"


def test_a_change_is_typed_stored_and_audited_with_before_and_after(ctx):
    admin = make_user("ops@plaza.test", is_platform_admin=True)
    before, after = set_setting("dispute_window_days", "45", by=AuditActor(admin, "203.0.113.5", "Firefox"),
                                reason="longer window for the holidays")
    db.session.commit()
    assert (before, after) == (30, 45)
    assert get_setting("dispute_window_days") == 45
    bella = make_business("bella")
    with tenant_scope(bella.tenant_id):  # a business's request reads the same value
        assert get_setting("dispute_window_days") == 45
    [entry] = _platform_entries()
    assert (entry.action, entry.object_id, entry.actor_user_id) == ("platform_setting.changed",
                                                                    "dispute_window_days", admin)
    assert (entry.before, entry.after, entry.reason) == ({"dispute_window_days": 30}, {"dispute_window_days": 45},
                                                         "longer window for the holidays")

    set_setting("dispute_window_days", 45, by=AuditActor(admin))  # unchanged: no second entry
    db.session.commit()
    assert len(_platform_entries()) == 1


@pytest.mark.parametrize(("key", "value", "message"), [
    ("dispute_window_days", "0", "from 1 to 365 days"),
    ("dispute_window_days", "thirty", "a whole number"),
    ("dispute_business_answer_hours", True, "a whole number"),
    ("plan.pro.marketplace_tier", "gold", "one of basic, featured, top"),
    ("no_such_key", "1", "There is no setting"),
])
def test_bad_values_are_refused_with_a_message_and_change_nothing(ctx, key, value, message):
    with pytest.raises(SettingError, match=message):
        set_setting(key, value, by=AuditActor(None))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PlatformSetting)) == 0
    assert _platform_entries() == []


def test_tenant_hosts_read_settings_but_never_write_them(ctx, services):
    set_setting("refund_request_answer_hours", 48, by=AuditActor(None))
    db.session.commit()
    bella = make_business("bella")
    with psycopg.connect(services["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute(*tenant_settings(bella.tenant_id, local=False))
        assert conn.execute("select value from platform_setting").fetchone()[0] == 48
        for sql in ("update platform_setting set value = '1'", "delete from platform_setting",
                    "insert into platform_setting (key, value, updated_at) values ('x', '1', now())"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
