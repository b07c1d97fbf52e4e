"""Liveness and readiness on every host."""


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
