"""HTTP surface: customer payments (business payments page on the dashboard, the customer's pay step)."""

from flask import Blueprint

bp = Blueprint("payments", __name__)

from app.blueprints.payments import labels, views  # noqa: E402,F401
