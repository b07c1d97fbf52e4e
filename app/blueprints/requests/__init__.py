"""HTTP surface: the request wizard on the apex (``/requests/new/<step>``), a guest's
confirmation link and the "request sent" page (issue 13, seed 002)."""

from flask import Blueprint

bp = Blueprint("requests", __name__, url_prefix="/requests")

from app.blueprints.requests import wizard  # noqa: E402,F401
