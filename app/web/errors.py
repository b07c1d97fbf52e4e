"""Error answers: RFC 9457 problem+json under ``/api/``, the error page elsewhere.

:func:`register_errorhandlers` installs the app's handlers (CSRF failures, every HTTP error,
429 with ``Retry-After``, and the one top-level boundary for unexpected exceptions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, g, jsonify, render_template, request
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from app.extensions import db, limiter

#: Paths under this prefix answer errors as problem+json.
API_PREFIX = "/api/"
#: A problem's ``title`` (the HTTP reason phrase in English) in the reader's language; ``type``,
#: ``status`` and field names stay as they are in every language.
TITLES = {
    "Bad Request": _l("Bad Request"), "Unauthorized": _l("Unauthorized"), "Forbidden": _l("Forbidden"),
    "Not Found": _l("Not Found"), "Method Not Allowed": _l("Method Not Allowed"), "Conflict": _l("Conflict"),
    "Gone": _l("Gone"), "Content Too Large": _l("Content Too Large"),
    "Request Entity Too Large": _l("Content Too Large"), "Unsupported Media Type": _l("Unsupported Media Type"),
    "Unprocessable Content": _l("Unprocessable Content"), "Unprocessable Entity": _l("Unprocessable Content"),
    "Too Many Requests": _l("Too Many Requests"), "Internal Server Error": _l("Internal Server Error"),
    "Service Unavailable": _l("Service Unavailable"),
}
#: What an HTTP error without a message of its own says, by status (werkzeug's defaults are English only).
DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Log in to continue."),
    403: _l("You do not have access to this."),
    404: _l("There is nothing here. Check the address."),
    405: _l("This method is not allowed here."),
    413: _l("The request is too large."),
    415: _l("This content type is not supported here."),
    500: _l("Something went wrong on our side; nothing was saved."),
}


def content_language() -> str:
    """The language of the response text, as a BCP 47 tag for ``Content-Language`` (``da``, ``en-GB``)."""
    return str(get_locale() or "en").replace("_", "-")


def problem(status: int, title: str, detail: str, *, errors: Iterable[dict] | None = None,
            type_: str = "about:blank", **extra: Any) -> Response:
    """An RFC 9457 ``application/problem+json`` response with HTTP ``status``.

    ``errors`` (a list of ``{"field", "message"}`` dicts) and any ``extra`` members are added
    to the body as given. Never raises.
    """
    body: dict[str, Any] = {"type": type_, "title": str(TITLES.get(title, title)), "status": status,
                            "detail": str(detail)}
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    resp.headers["Content-Language"] = content_language()
    return resp


def wants_problem() -> bool:
    """True when the request's errors answer as problem+json (paths under ``/api/``)."""
    return request.path.startswith(API_PREFIX)


def error_page(code: int, title: str, message: str) -> tuple[str, int]:
    """The HTML error page (``errors/error.html``) with ``code`` as its status."""
    return render_template("errors/error.html", code=code, title=title, message=message), code


def too_many_requests(app: Flask, exc: HTTPException) -> Response:
    """429 with ``Retry-After`` (whole seconds until the breached window frees a place, at least 1):
    problem+json with ``retry_after`` under ``/api/``, else the friendly page. A limit's own
    ``error_message`` (e.g. the booking limits') is the message."""
    current = limiter.current_limit
    retry_after = max(1, int(current.reset_at - time.time())) if current is not None else 60
    limit = getattr(exc, "limit", None)
    custom = exc.description if limit is not None and limit.error_message else None
    message = custom or _("Too many attempts. Please wait a few minutes and try again.")
    if wants_problem():
        resp = problem(429, "Too Many Requests", message, retry_after=retry_after)
    else:
        minutes = max(1, round(retry_after / 60))
        wait = ngettext("You can try again in about %(num)d minute.", "You can try again in about %(num)d minutes.",
                        minutes)
        resp = app.make_response(error_page(429, _("Too many attempts"), f"{message} {wait}"))
    resp.headers["Retry-After"] = str(retry_after)
    return resp


def register_errorhandlers(app: Flask) -> None:
    """Install the HTML error pages, and problem+json under ``/api/``, on ``app``."""

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        return error_page(400, _("Form expired"),
                          _("Your form expired or came from another site. Go back, reload and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 429:
            return too_many_requests(app, exc)
        own = exc.description and exc.description != type(exc).description
        detail = exc.description if own else DETAILS.get(exc.code or 500, exc.description or exc.name)
        if wants_problem():
            resp = problem(exc.code or 500, exc.name, detail)
            resp.headers.extend((k, v) for k, v in exc.get_headers() if k.lower() != "content-type")  # Allow on 405
            return resp
        return render_template("errors/error.html", code=exc.code, title=TITLES.get(exc.name, exc.name),
                               message=detail), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # The one top-level boundary: any exception a view or hook let through. Views already
        # rolled back (app.uow); a failing before_request hook had no view around it, so roll back here.
        db.session.rollback()
        logging.getLogger("plaza.error").exception("unhandled error", extra={"request_id": g.get("request_id")})
        if wants_problem():
            return problem(500, "Internal Server Error", _("Something went wrong on our side; nothing was saved."))
        return error_page(500, _("Something went wrong"), _("Something went wrong on our side; nothing was saved."))
