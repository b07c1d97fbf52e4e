"""Liveness and readiness on every host."""

import pytest

pytestmark = pytest.mark.integration


def test_healthz_and_readyz_on_apex_and_tenant_host(client, services):
    for host in ("localhost", "nosuch.localhost"):
        assert client.get("/healthz", headers={"Host": host}).get_json() == {"status": "ok"}
        resp = client.get("/readyz", headers={"Host": host})
        assert resp.status_code == 200
        assert resp.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_unknown_subdomain_gets_friendly_404(client, services):
    resp = client.get("/", headers={"Host": "nosuch.localhost"})
    assert resp.status_code == 404
    assert b"no business at this address" in resp.data


def test_custom_domain_serves_the_tenant_storefront(app, client, services):
    from app.extensions import db
    from app.tenants.models import TenantDomain
    from tests.factories import make_business

    with app.app_context():
        biz = make_business("bella")
        db.session.add(TenantDomain(domain="book.bellasalon.dk", tenant_id=biz.tenant_id))
        db.session.commit()
    resp = client.get("/", headers={"Host": "book.bellasalon.dk:5000"})
    assert resp.status_code == 200 and b"Bella" in resp.data
    assert client.get("/", headers={"Host": "book.othersalon.dk"}).status_code == 404
