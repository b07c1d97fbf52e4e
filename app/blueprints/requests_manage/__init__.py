"""HTTP surface of the customer's side of a job request (apex): the manage page with the offers,
confirm (pick a time -> a booking at the provider) or reject, the job chat with each provider,
and the signed-in customer's dashboard of requests (``/account/requests``)."""

from flask import Blueprint

bp = Blueprint("requests_manage", __name__)

from app.blueprints.requests_manage import views, views_account, views_chat  # noqa: E402,F401
