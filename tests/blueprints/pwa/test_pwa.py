"""The installable app over HTTP: each host's manifest (the business, its dashboard, Plaza), icons
made from the logo (a maskable one inside the safe zone), the service worker with the release and
the app shell baked in, and the offline pages in the business's style and the reader's language."""

from __future__ import annotations

import io
import json
import math
import re

import pytest
from PIL import Image

from app import create_app
from app.extensions import db
from app.storage.images import prepare_logo, store_logo
from app.storage.local import default_storage
from app.tenants.context import tenant_scope
from app.tenants.models import Tenant
from tests.factories import make_business
from tests.helpers import login_as

pytestmark = pytest.mark.integration

BELLA = "http://bella.localhost"
APEX = "http://localhost"
RED = (200, 30, 60)


def red_dot_logo() -> bytes:
    """A 300x300 transparent PNG with a red disc (the brand colour) filling it."""
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    from PIL import ImageDraw

    ImageDraw.Draw(image).ellipse((0, 0, 299, 299), fill=(*RED, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def with_logo(biz) -> None:
    with tenant_scope(biz.tenant_id):
        key = store_logo(default_storage(), biz.tenant_id, prepare_logo(red_dot_logo(), max_bytes=2_000_000))
        db.session.get(Tenant, biz.tenant_id).logo_key = key
        db.session.commit()


def get_json(client, path, base_url=BELLA, lang="en-GB"):
    resp = client.get(path, base_url=base_url, headers={"Accept-Language": lang})
    assert resp.status_code == 200, (path, resp.status_code)
    return resp


def png(client, src, base_url=BELLA) -> Image.Image:
    resp = client.get(src, base_url=base_url)
    assert resp.status_code == 200 and resp.mimetype == "image/png", src
    return Image.open(io.BytesIO(resp.data)).convert("RGB")


def test_the_storefront_installs_as_the_business_with_icons_from_its_logo(ctx, client):
    biz = make_business("bella")
    with_logo(biz)
    resp = get_json(client, "/manifest.webmanifest")
    assert resp.mimetype == "application/manifest+json"
    manifest = json.loads(resp.data)
    assert manifest["name"] == "Bella" and manifest["short_name"] == "Bella"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/", "/", "standalone")
    assert manifest["theme_color"] == "#{:02x}{:02x}{:02x}".format(*RED)  # the logo's colour
    assert manifest["description"] == "Book an appointment with Bella."
    icons = {(i["sizes"], i["purpose"]): i["src"] for i in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    assert png(client, icons[("192x192", "any")]).size == (192, 192)
    big = png(client, icons[("512x512", "any")])
    assert big.size == (512, 512) and big.getpixel((256, 256)) == RED

    # The maskable icon keeps the whole logo inside the safe zone (the centred circle of 80 %):
    # outside it only the background, so no launcher mask cuts the logo.
    mask = png(client, icons[("512x512", "maskable")])
    assert mask.size == (512, 512) and mask.getpixel((256, 256)) == RED
    outside = [(x, y) for x in range(0, 512, 8) for y in range(0, 512, 8)
               if math.hypot(x - 256, y - 256) > 0.4 * 512]
    assert all(mask.getpixel(p) == (255, 255, 255) for p in outside)

    # A new logo gets new icon URLs; the old ones are gone (they may be cached for ever).
    old = icons[("192x192", "any")]
    assert client.get(old, base_url=BELLA).headers["Cache-Control"].endswith("immutable")
    with tenant_scope(biz.tenant_id):
        db.session.get(Tenant, biz.tenant_id).logo_key = None
        db.session.commit()
    manifest = json.loads(get_json(client, "/manifest.webmanifest").data)
    assert manifest["icons"][0]["src"] != old and client.get(old, base_url=BELLA).status_code == 404
    assert manifest["theme_color"] == "#4f46e5"  # no logo, no brand colour: Plaza's


def test_the_dashboard_installs_as_the_business_on_plaza_and_the_apex_as_plaza(ctx, client):
    biz = make_business("bella")
    dash = json.loads(get_json(client, "/dashboard/manifest.webmanifest").data)
    assert dash["name"] == "Bella · Plaza"
    assert (dash["start_url"], dash["scope"], dash["id"]) == ("/dashboard/", "/dashboard/", "/dashboard/")
    assert png(client, dash["icons"][1]["src"]).size == (512, 512)  # the initial on Plaza's colour

    apex = json.loads(get_json(client, "/manifest.webmanifest", base_url=APEX).data)
    assert apex["name"] == "Plaza" and apex["scope"] == "/"
    assert client.get("/dashboard/manifest.webmanifest", base_url=APEX).status_code == 404

    # Each page links its own manifest.
    login_as(client, biz.owner_email, host="bella.localhost")
    board = client.get("/dashboard/", base_url=BELLA).get_data(as_text=True)
    assert '<link rel="manifest" href="/dashboard/manifest.webmanifest">' in board
    home = client.get("/", base_url=APEX).get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in home


def sw_config(body: str) -> dict:
    match = re.match(r"self\.PLAZA = (\{.*?\});\n", body)
    assert match, body[:200]
    return json.loads(match.group(1))


def test_one_service_worker_per_host_precaches_this_releases_app_shell(ctx, client):
    make_business("bella")
    resp = client.get("/sw.js", base_url=BELLA)
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/" and resp.headers["Cache-Control"] == "no-cache"
    body = resp.get_data(as_text=True)
    config = sw_config(body)
    assert 'addEventListener("push"' in body and "pushsubscriptionchange" in body and "notificationclick" in body
    assert "workbox.precaching.precacheAndRoute" in body
    urls = [entry["url"] for entry in config["precache"]]
    assert "/pwa/offline" in urls and "/pwa/refused" in urls and "/pwa/refused/htmx" in urls
    assert any(u.startswith("/static/css/app.css?v=") for u in urls)
    assert any(u.startswith("/static/js/pwa.js?v=") for u in urls)
    for url in urls:  # every entry is there, or the worker would never install
        assert client.get(url, base_url=BELLA).status_code == 200, url
    assert client.get(config["workbox"] + "workbox-sw.js", base_url=BELLA).status_code == 200
    assert client.get(config["workbox"] + "workbox-precaching.prod.js", base_url=BELLA).status_code == 200

    # Pages link the same content-hashed static URLs the worker precached.
    page = client.get("/", base_url=BELLA).get_data(as_text=True)
    app_css = next(u for u in urls if u.startswith("/static/css/app.css"))
    assert f'href="{app_css}"' in page

    # The release is in the worker: another release, another worker and other caches.
    other = create_app({"RELEASE": "release-two"})
    with other.test_client() as second:
        config_two = sw_config(second.get("/sw.js", base_url=BELLA).get_data(as_text=True))
    assert config["release"] != "release-two" == config_two["release"]
    assert len(config["release"]) == 16


def test_the_offline_pages_are_in_the_business_style_and_the_readers_language(ctx, client):
    make_business("bella")
    html = client.get("/pwa/offline", base_url=BELLA).get_data(as_text=True)
    assert "You are offline" in html and "Bella" in html
    assert 'href="/pwa/theme.css"' in html and re.search(r'src="/pwa/icons/[0-9a-f]{16}/192\.png"', html)
    assert "--pwa-brand: #4f46e5" in client.get("/pwa/theme.css", base_url=BELLA).get_data(as_text=True)
    refused = client.get("/pwa/refused/htmx", base_url=BELLA).get_data(as_text=True)
    assert 'class="error-page' in refused and "You are offline: nothing was saved." in refused
    assert "<html" not in refused

    danish = {"Accept-Language": "da-DK,da;q=0.9"}
    html = client.get("/pwa/offline", base_url=BELLA, headers=danish).get_data(as_text=True)
    assert '<html lang="da-DK">' in html and "Du er offline" in html and "You are offline" not in html
    assert "Prøv igen" in html
    refused = client.get("/pwa/refused", base_url=BELLA, headers=danish).get_data(as_text=True)
    assert "Du er offline: intet blev gemt." in refused and "Gå tilbage" in refused
    manifest = json.loads(get_json(client, "/manifest.webmanifest", lang="da").data)
    assert manifest["name"] == "Bella" and manifest["description"] == "Book en tid hos Bella."
    assert manifest["lang"] == "da"
    page = client.get("/", base_url=BELLA, headers=danish).get_data(as_text=True)
    assert 'data-fetched="Offline — hentet {time}"' in page and 'data-updated="Plaza er blevet opdateret."' in page
