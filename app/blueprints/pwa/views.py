"""The installable app on every host: manifests, the service worker, icons and the offline pages.

* ``GET /manifest.webmanifest`` — the storefront's manifest on a business's host, Plaza's on the apex;
* ``GET /dashboard/manifest.webmanifest`` — the dashboard's ("<business> · Plaza"), business hosts only;
* ``GET /sw.js`` — the service worker (``app/static/sw.js``) with this release and host baked in;
* ``GET /pwa/icons/<digest>/<variant>.png`` — the business's icons (:mod:`app.blueprints.pwa.icons`);
* ``GET /pwa/theme.css`` — the host's colours as CSS custom properties (the CSP forbids inline styles);
* ``GET /pwa/offline``, ``/pwa/refused``, ``/pwa/refused/htmx`` — what the worker answers offline:
  a page in the business's style, and the refusal of an action (a page, or a fragment for HTMX).
"""

from __future__ import annotations

import json

from flask import Response, abort, current_app, g, render_template, url_for
from flask_babel import get_locale

from app.blueprints.pwa import bp
from app.blueprints.pwa.icons import BACKGROUND, UnknownVariant, render_icon, text_colour_on
from app.blueprints.pwa.identity import (
    dashboard_identity,
    icon_source,
    identity_for,
    identity_revision,
)
from app.blueprints.pwa.release import Release, compute_release
from app.web import tenant_required

#: Where the Workbox builds are (``make assets`` copies them from the npm packages).
WORKBOX_PREFIX = "/static/vendor/workbox/"
#: A year: URLs that carry their content's hash never change.
IMMUTABLE = "public, max-age=31536000, immutable"


def current_release() -> Release:
    """This process's :class:`~app.blueprints.pwa.release.Release` (``RELEASE`` names it when set)."""
    return compute_release(current_app.static_folder or "", str(current_app.config.get("RELEASE") or ""))


@bp.record_once
def _compute_at_start(state) -> None:
    """Hash the static files once, when the app is built (not on the first request)."""
    compute_release(state.app.static_folder or "", str(state.app.config.get("RELEASE") or ""))


@bp.app_url_defaults
def static_url_defaults(endpoint: str, values: dict) -> None:
    """Add ``v=<content hash>`` to every ``url_for('static', filename=…)`` of a known file."""
    if endpoint == "static" and "v" not in values:
        digest = current_release().hashes.get(str(values.get("filename", "")))
        if digest:
            values["v"] = digest


@bp.app_context_processor
def _release_in_templates() -> dict[str, object]:
    def pwa_release() -> str:
        """This process's release (pages tell js/pwa.js, which compares it with the worker's)."""
        return current_release().version

    return {"pwa_release": pwa_release}


def _html_lang() -> str:
    """The reader's language as a BCP 47 tag (``da``, ``en-GB``)."""
    return str(get_locale() or "en").replace("_", "-")


def _json(data: object, mimetype: str) -> Response:
    resp = current_app.response_class(json.dumps(data, ensure_ascii=False, indent=1), mimetype=mimetype)
    resp.headers["Cache-Control"] = "no-cache"
    resp.vary.add("Accept-Language")
    resp.vary.add("Cookie")
    return resp


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    """The host's Web App Manifest: the business's storefront, or Plaza on the apex (JSON,
    ``application/manifest+json``, in the reader's language; the business's name stays as written)."""
    return _json(identity_for(g.get("tenant")).manifest(_html_lang()), "application/manifest+json")


@bp.get("/dashboard/manifest.webmanifest")
@tenant_required
def dashboard_manifest() -> Response:
    """The dashboard's manifest ("<business> · Plaza", start URL and scope ``/dashboard/``). Public,
    like every manifest: browsers fetch manifests without cookies."""
    return _json(dashboard_identity(g.tenant).manifest(_html_lang()), "application/manifest+json")


@bp.get("/pwa/icons/<digest>/<variant>.png")
@tenant_required
def icon(digest: str, variant: str) -> Response:
    """One of the business's icons (``192``, ``512``, ``maskable-512``) as PNG; 404 when
    ``digest`` is not its current logo's (an old URL) or the variant is unknown."""
    source = icon_source(g.tenant)
    if digest != source.digest:
        abort(404)
    try:
        data = render_icon(source, variant)
    except UnknownVariant:
        abort(404)
    resp = current_app.response_class(data, mimetype="image/png")
    resp.headers["Cache-Control"] = IMMUTABLE
    return resp


@bp.get("/pwa/theme.css")
def theme_css() -> Response:
    """The host's colours for the offline pages: ``--pwa-brand`` and ``--pwa-on-brand``."""
    theme = identity_for(g.get("tenant")).theme
    css = f":root {{ --pwa-brand: {theme}; --pwa-on-brand: {text_colour_on(theme)}; --pwa-page: {BACKGROUND}; }}\n"
    resp = current_app.response_class(css, mimetype="text/css")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _page(template: str, status: int = 200) -> Response:
    identity = identity_for(g.get("tenant"))
    resp = current_app.make_response((render_template(template, identity=identity, html_lang=_html_lang()),
                                      status))
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/pwa/offline")
def offline() -> Response:
    """The page the worker shows for a page it cannot fetch nor has kept, in the host's style."""
    return _page("pwa/offline.html")


@bp.get("/pwa/refused")
def refused() -> Response:
    """The page the worker answers an action (a form sent, a change) with while offline."""
    return _page("pwa/refused.html")


@bp.get("/pwa/refused/htmx")
def refused_fragment() -> Response:
    """The same refusal as an HTML fragment for an HTMX request (``.error-page p``: js/app.js shows it)."""
    return _page("pwa/refused_fragment.html")


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker for this host, with the release, the precache list (the app shell's
    static files, the offline pages, the host's icon) and the offline page's URL baked in. A new
    release changes these bytes, so browsers install the new worker."""
    release = current_release()
    identity = identity_for(g.get("tenant"))
    pages = identity_revision(identity) + release.version
    precache = [{"url": url_for("static", filename=path), "revision": None} for path in release.shell]
    precache += [{"url": url_for(endpoint), "revision": pages}
                 for endpoint in ("pwa.offline", "pwa.refused", "pwa.refused_fragment", "pwa.theme_css")]
    if identity.icon_url.startswith("/pwa/"):
        precache.append({"url": identity.icon_url, "revision": None})
    config = {"release": release.version, "workbox": WORKBOX_PREFIX, "precache": precache,
              "offline": url_for("pwa.offline"), "refused": url_for("pwa.refused"),
              "refusedHtmx": url_for("pwa.refused_fragment"), "icon": identity.icon_url}
    with open(f"{current_app.static_folder}/sw.js", encoding="utf-8") as fh:
        body = f"self.PLAZA = {json.dumps(config, separators=(',', ':'))};\n{fh.read()}"
    resp = current_app.response_class(body, mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp
