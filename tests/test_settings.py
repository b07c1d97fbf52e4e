"""Settings (app/config.py): every variable documented and validated; a bad one stops start-up by name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app import create_app
from app.config import REQUIRED_IN_PRODUCTION, Settings, SettingsError, UnknownSetting, load_settings, settings_str

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(monkeypatch):
    """An environment without any of Plaza's variables (as on a fresh machine)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_setting_has_a_description():
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undocumented == []


def test_env_example_and_readme_list_every_setting():
    example = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    readme = (ROOT / "README.md").read_text()
    assert set(Settings.model_fields) - example == set()
    assert [name for name in Settings.model_fields if f"`{name}`" not in readme] == []


def test_development_defaults_need_nothing(clean_env):
    settings = load_settings()
    assert settings.ENV == "development"
    assert len(settings.SECRET_KEY) == 64  # random per process
    assert settings.PUBLIC_PORT == 5000
    clean_env.setenv("PORT", "8000")
    assert load_settings().PUBLIC_PORT == 8000


def test_empty_values_count_as_unset(clean_env):
    clean_env.setenv("PORT", "")
    clean_env.setenv("SMS_PROVIDER", "")
    settings = load_settings()
    assert settings.PORT is None and settings.SMS_PROVIDER == "log"


@pytest.mark.parametrize(("name", "value"), [
    ("PORT", "abc"), ("GUEST_CONFIRM_MINUTES", "-1"), ("ENV", "staging"), ("REDIS_URL", "localhost:6379"),
    ("RATELIMIT_DEFAULT", "lots"), ("SMS_PROVIDER", "pigeon"), ("RATELIMIT_ENABLED", "maybe"),
    ("DATABASE_URL", "mysql://x"), ("STRIPE_TEST_PAYMENTS", "sure"),
])
def test_an_invalid_value_stops_start_up_naming_it(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        create_app()


def test_production_requires_its_variables_by_name(clean_env):
    clean_env.setenv("ENV", "production")
    with pytest.raises(SettingsError) as caught:
        create_app()
    for name in REQUIRED_IN_PRODUCTION:
        assert name in str(caught.value)


def test_production_refuses_a_short_secret_key(clean_env):
    clean_env.setenv("ENV", "production")
    for name, value in {"DATABASE_URL": "postgresql://a@db/plaza", "PLATFORM_DATABASE_URL": "postgresql://b@db/plaza",
                        "REDIS_URL": "redis://cache:6379/0", "SMTP_URL": "smtp://mail:25",
                        "PLATFORM_DOMAIN": "plaza.example", "SECRET_KEY": "short"}.items():
        clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings()
    clean_env.setenv("SECRET_KEY", "x" * 40)
    assert load_settings().is_production


def test_database_url_needs_the_platform_role(clean_env):
    clean_env.setenv("DATABASE_URL", "postgresql://a@db/plaza")
    with pytest.raises(SettingsError, match="PLATFORM_DATABASE_URL"):
        load_settings()


def test_settings_str_reads_the_environment_outside_an_app(clean_env):
    clean_env.setenv("TWILIO_FROM", "+4570000000")
    assert settings_str("TWILIO_FROM") == "+4570000000"
    assert settings_str("STRIPE_PRICE_PRO", "none") == "none"
    assert settings_str("BILLING_GRACE_DAYS") == "7"
    with pytest.raises(UnknownSetting):
        settings_str("NOT_A_SETTING")


def test_flask_config_carries_every_application_setting(clean_env):
    config = load_settings().flask_config()
    for name in ("STRIPE_SECRET_KEY", "VAPID_SUBJECT", "SMS_PROVIDER", "SOCKETIO_ASYNC_MODE", "PUBLIC_PORT",
                 "DELIVERY_LEASE_SECONDS", "NOTIFY_DEDUP_WINDOW_SECONDS", "BILLING_GRACE_DAYS"):
        assert name in config
    assert config["RATELIMIT_GLOBAL"] == "300 per minute"
