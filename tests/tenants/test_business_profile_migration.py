"""Migration j10d_business_profile: existing businesses get their country from their time zone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.tenants.models import Tenant
from tests.factories import make_business

pytestmark = pytest.mark.integration

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "j10d_business_profile.py"


def _migration():
    spec = importlib.util.spec_from_file_location("j10d_business_profile", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_backfill_sets_the_country_of_each_zone(ctx, services):
    london = make_business("london", timezone="Europe/London", currency="GBP")
    utc = make_business("nowhere", timezone="UTC", currency="EUR")
    engine = sa.create_engine(services["OWNER_URL"])
    try:
        with engine.begin() as conn:  # as before the migration: no country anywhere
            conn.execute(sa.text("select set_config('app.platform', 'on', true)"))
            conn.execute(sa.text("update tenant set country = ''"))
        with engine.begin() as conn:
            assert _migration().backfill_countries(conn) == 1
    finally:
        engine.dispose()
    db.session.expire_all()
    countries = dict(db.session.execute(sa.select(Tenant.id, Tenant.country)).all())
    assert countries[london.tenant_id] == "GB"
    assert countries[utc.tenant_id] == ""
