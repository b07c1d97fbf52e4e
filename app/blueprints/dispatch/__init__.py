"""HTTP surface: dispatch now on the apex (the customer's request form at ``/now`` and the live
status page of one request). The operator's side is in the dashboard
(:mod:`app.blueprints.dashboard.views.dispatch`)."""

from flask import Blueprint

bp = Blueprint("dispatch", __name__)

from app.blueprints.dispatch import views  # noqa: E402,F401
