"""Page and fragment rendering: one template per page, one named block per HTMX swap."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from jinja2_fragments.flask import render_block
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    """True for an HTMX request (``HX-Request: true``) that is not a history restore."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_page(template: str, block: str | None = None, status: int = 200, **context: Any) -> Response:
    """Render the whole page, or for an HTMX request only ``block`` of the same template.

    ``template`` is a path under ``app/templates``; ``status`` the HTTP status of the answer.
    Adds ``Vary: HX-Request`` so caches keep the two shapes apart. Raises what Jinja raises
    for a missing template or block (a programming error, answered 500).
    """
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    resp = current_app.make_response((body, status))
    resp.vary.add("HX-Request")
    return resp
