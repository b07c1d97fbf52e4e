"""What crawlers read on the apex: ``/robots.txt`` and ``/sitemap.xml``.

The sitemap lists every listed (not suspended) business's profile URL, built from
configuration (:func:`app.tenants.urls.tenant_url`), with its ``lastmod``. Above
``SITEMAP_PAGE_SIZE`` URLs (50,000, the protocol's limit) ``/sitemap.xml`` is a sitemap index
of ``/sitemap-<n>.xml`` pages (``n`` from 1). On a business's host ``/robots.txt`` keeps crawlers
out of its private pages and there is no sitemap (404).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from flask import abort, current_app, g
from werkzeug.wrappers import Response

from app.blueprints.site import bp
from app.tenants.directory import latest_change, listed_businesses, listed_count
from app.tenants.urls import platform_url, tenant_url
from app.web import apex_only

#: Seconds crawlers and caches may keep robots.txt and sitemaps.
CACHE_SECONDS = 3600
#: Paths no crawler should index: accounts, staff pages, APIs, booking steps and manage links.
PRIVATE_PATHS = ("/dashboard/", "/account/", "/auth/", "/api/", "/billing/", "/manage/", "/booked/", "/book/",
                 "/media/private/")
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def _page_size() -> int:
    return int(current_app.config.get("SITEMAP_PAGE_SIZE") or 50_000)


def _lastmod(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _answer(body: str, mimetype: str) -> Response:
    resp = current_app.response_class(body, mimetype=mimetype)
    resp.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return resp


@bp.get("/robots.txt")
def robots() -> Response:
    """``robots.txt``: on the apex, everything public may be crawled and the sitemap is named;
    on a business's host, its private pages are disallowed."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "Allow: /"]
    if g.get("tenant") is None:
        lines += ["", f"Sitemap: {platform_url('/sitemap.xml')}"]
    return _answer("\n".join(lines) + "\n", "text/plain")


def _urlset(offset: int, limit: int) -> str:
    urls = "".join(f"<url><loc>{escape(tenant_url(b.slug, '/'))}</loc><lastmod>{_lastmod(b.lastmod)}</lastmod></url>"
                   for b in listed_businesses(offset, limit))
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{XMLNS}">{urls}</urlset>\n'


@bp.get("/sitemap.xml")
@apex_only
def sitemap() -> Response:
    """The sitemap of business profiles, or a sitemap index of its pages above ``SITEMAP_PAGE_SIZE``."""
    size, total = _page_size(), listed_count()
    if total <= size:
        return _answer(_urlset(0, size), "application/xml")
    entries = []
    for n in range(1, math.ceil(total / size) + 1):
        newest = latest_change((n - 1) * size, size)
        lastmod = f"<lastmod>{_lastmod(newest)}</lastmod>" if newest else ""
        entries.append(f"<sitemap><loc>{escape(platform_url(f'/sitemap-{n}.xml'))}</loc>{lastmod}</sitemap>")
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{XMLNS}">{"".join(entries)}</sitemapindex>\n'
    return _answer(body, "application/xml")


@bp.get("/sitemap-<int:page>.xml")
@apex_only
def sitemap_page(page: int) -> Response:
    """Page ``page`` (from 1) of the sitemap; 404 past the last page or when there is only one."""
    size, total = _page_size(), listed_count()
    if total <= size or page < 1 or (page - 1) * size >= total:
        abort(404)
    return _answer(_urlset((page - 1) * size, size), "application/xml")
