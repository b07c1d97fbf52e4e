"""For every route with an id in its path: tenant B's id asked for on tenant A's host
answers exactly like a missing id and changes nothing.

The test walks the app's URL map, so routes added later are covered automatically.
It runs as A's owner (logged in on A's host) and, for the API, with A's staff token.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa

from app.booking.service import CustomerInput, create_booking, manage_token
from app.catalog.service import add_time_off
from app.extensions import db
from app.identity.service import create_api_token
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business
from tests.helpers import csrf_from, login_as

pytestmark = pytest.mark.integration

TABLES = ["booking", "booking_event", "customer", "service", "staff_member", "service_staff", "working_hours",
          "date_override", "time_off", "api_token", "membership", "tenant", "tenant_domain", "user_account"]


def _seed():
    a = make_business("alpha")
    b = make_business("bravo", timezone="America/New_York", currency="USD")
    ids: dict[str, str] = {}
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    for biz in (a, b):
        with tenant_scope(biz.tenant_id):
            tenant = db.session.get(Tenant, biz.tenant_id)
            # Find a bookable start for this business (09:00–17:00 local every day).
            from app.catalog.models import Service
            from app.scheduling.service import find_slots

            svc = db.session.scalar(sa.select(Service))
            slot = find_slots(tenant, svc, staff_id=None, start_date=start.date(), end_date=start.date() + timedelta(days=2))[0]
            booking = create_booking(tenant, service_id=biz.service_ids[0], staff_id=None, start=slot.start,
                                     customer=CustomerInput("Cust", f"c@{biz.slug}.test"), customer_timezone="UTC")
            off = add_time_off(biz.staff_ids[1], slot.start + timedelta(days=5), slot.start + timedelta(days=5, hours=2))
            token_row, secret = create_api_token("t", None)
            if biz is b:
                ids = {"booking": str(booking.id), "service": str(biz.service_ids[0]), "staff": str(biz.staff_ids[0]),
                       "customer": str(booking.customer_id), "time_off": str(off.id), "api_token": str(token_row.id),
                       "manage": manage_token(booking)}
            else:
                a_secret = secret
    db.session.commit()
    return a, b, ids, a_secret


def _snapshot(services) -> dict[str, str]:
    """A digest of every row of each table in :data:`TABLES` (fixed names), by table name."""
    url = services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        conn.execute("select set_config('app.platform', 'on', false)")
        digests = {}
        for table in TABLES:
            digest = hashlib.sha256()
            cols = "*" if table != "api_token" else "tenant_id, id, name, token_hash, revoked_at"
            # Sorted here, whole rows: an ORDER BY on fewer columns than the key (service_staff's
            # tenant and service, say) leaves ties in whatever order the plan of the moment gives.
            for text in sorted(repr(row) for row in conn.execute(f"select {cols} from {table}")):  # noqa: S608
                digest.update(text.encode())
            digests[table] = digest.hexdigest()
        return digests


def _fill(rule, value: str) -> str:
    path = rule.rule
    for arg in rule.arguments:
        path = path.replace(f"<{arg}>", value)
        for conv in ("uuid", "string", "path", "int"):
            path = path.replace(f"<{conv}:{arg}>", value)
    return path


def test_foreign_ids_answer_like_missing_ids_on_every_route(app, services, ctx, monkeypatch):
    # Walks every route from one client IP, far past the global per-IP budget of real use.
    monkeypatch.setitem(app.config, "RATELIMIT_GLOBAL", "5000 per minute")
    a, b, foreign, a_secret = _seed()
    before = _snapshot(services)
    client = app.test_client()
    host = "http://alpha.localhost"
    login_as(client, a.owner_email, host="alpha.localhost")
    page = client.get("/", base_url=host)
    token = csrf_from(page.data)
    checked = 0
    missing = str(uuid.uuid4())
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for value in foreign.values():
                headers = {"X-CSRFToken": token}
                if rule.rule.startswith("/api/"):
                    headers["Authorization"] = f"Bearer {a_secret}"
                kwargs = {"base_url": host, "headers": headers}
                if method != "GET":
                    kwargs["data"] = {"csrf_token": token, "reason": "x", "name": "x"}
                if rule.rule.startswith("/api/") and method != "GET":
                    kwargs.pop("data")
                    kwargs["json"] = {"reason": "x"}
                got = client.open(_fill(rule, value), method=method, **kwargs)
                ref = client.open(_fill(rule, missing), method=method, **kwargs)
                assert got.status_code == ref.status_code, (method, rule.rule, value, got.status_code, ref.status_code)
                assert got.status_code >= 400, (method, rule.rule, got.status_code)
                checked += 1
    changed = [table for table, digest in _snapshot(services).items() if before[table] != digest]
    assert changed == []
    assert checked > 0
