"""HTTP surface: incoming webhooks (Stripe). CSRF-exempt; authenticated by signature."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from app.blueprints.webhooks import views  # noqa: E402,F401
