"""HTTP surface: the owner's billing page (``/dashboard/billing``)."""

from flask import Blueprint

bp = Blueprint("billing", __name__)

from app.blueprints.billing import views  # noqa: E402,F401
