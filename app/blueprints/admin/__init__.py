"""The platform console at ``/admin`` on the apex: platform admins only (everyone else gets 404).

Each section is a view module of its own, imported below with one line; ``access`` holds the
decorator every view uses.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from app.blueprints.admin import views, views_metrics, views_verification  # noqa: E402,F401
