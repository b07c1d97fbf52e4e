"""HTTP surface of the community: inquiries before booking, posts and comments, reports and
blocks (tenant host: the business's profile and dashboard), favourites, recently viewed and
the feed (apex). Registering the blueprint also installs the block check into the chat
(:func:`app.community.blocks.install`), so every way of posting a message enforces it."""

from flask import Blueprint

from app.community import blocks

bp = Blueprint("community", __name__)
blocks.install()

from app.blueprints.community import (  # noqa: E402,F401
    account,
    dashboard,
    helpers,
    inquiries,
    posts,
    reports,
)
