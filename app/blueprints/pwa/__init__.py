"""The installable, offline-capable app (PWA): per-host manifests and icons, one service worker
per host (Workbox, precached app shell per release) and the pages it shows offline."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pwa", __name__)

from app.blueprints.pwa import views  # noqa: E402,F401 - registers the routes
