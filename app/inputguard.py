"""The edge check on text input: control characters are refused before any view runs.

PostgreSQL cannot store NUL (``\\x00``) in text, mail headers break on CR/LF, and other C0/C1
control characters, DEL and lone UTF-16 surrogates have no business in a name, a note or a
search. :func:`install_input_guard` registers one ``before_request`` hook that looks at every
query argument, every form field (names and values; uploaded files are left to their own
checks) and every string (and object key) of a JSON body, and answers 400 naming the first
field at fault: ``application/problem+json`` (RFC 9457) with an ``errors`` list under
``/api/``, an error page elsewhere. Nothing is written because no view ran.

Tab, LF and CR stay allowed here (multi-line notes); single-line fields refuse CR/LF in their
own validators (:data:`SINGLE_LINE_PATTERN`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.web import problem

#: C0 controls except TAB, LF, CR; DEL; C1 controls; UTF-16 surrogates (lone ones, in a Python str).
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
#: Any control character at all, for single-line fields (names, subjects, slugs): FORBIDDEN plus TAB, LF, CR.
SINGLE_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: The same rule as a JSON Schema / pydantic ``pattern`` for single-line strings.
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
#: Bodies larger than this are not inspected here (the views refuse them with 413).
MAX_INSPECTED_BODY = 1024 * 1024
#: API query arguments that are credentials (the manage token): never stored or shown, only
#: compared with signed tokens, so a control character in one simply fails authentication (401).
API_CREDENTIAL_ARGS = frozenset({"token"})
#: Endpoints whose raw input is checked elsewhere (signed webhook bodies) or is not text.
EXEMPT_ENDPOINTS = frozenset({"static", "webhooks.stripe_webhook", "ops.healthz", "ops.readyz"})


def control_character_message(char: str) -> str:
    """The user-facing sentence for a forbidden ``char`` (``U+0000`` notation)."""
    code = f"U+{ord(char):04X}"
    return _("Contains a control character (%(code)s) that is not allowed; remove it.", code=code)


def find_control_character(pairs: Iterator[tuple[str, str]]) -> tuple[str, str] | None:
    """The first ``(field, message)`` whose field name or text has a :data:`FORBIDDEN` character."""
    for field, text in pairs:
        for candidate in (field, text):
            hit = FORBIDDEN.search(candidate)
            if hit:
                return _printable(field), control_character_message(hit.group())
    return None


def _printable(field: str) -> str:
    return FORBIDDEN.sub("\N{REPLACEMENT CHARACTER}", field)[:80] or "body"


def json_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """``(dotted path, string)`` for every string and object key inside a decoded JSON ``value``."""
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key)
            yield from json_strings(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_strings(item, f"{path}.{index}" if path else str(index))


def _request_strings() -> Iterator[tuple[str, str]]:
    credential_args = API_CREDENTIAL_ARGS if request.path.startswith("/api/") else frozenset()
    for key, value in request.args.items(multi=True):
        if key not in credential_args:
            yield key, value
    if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
        if (request.content_length or 0) > MAX_INSPECTED_BODY:
            return
        if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            for key, value in request.form.items(multi=True):
                yield key, value
            for key in request.files:
                yield key, ""
        elif request.is_json:
            raw = request.get_data(cache=True)
            try:
                data = json.loads(raw)
            except ValueError:
                return  # the view answers 400 for a body that is not JSON
            yield from json_strings(data)


def _refuse(field: str, message: str) -> Response:
    if request.path.startswith("/api/"):
        return problem(400, "Bad Request", _("The field “%(field)s”: %(problem)s", field=field, problem=message),
                       errors=[{"field": field, "message": message}])
    text = _("The field “%(field)s”: %(problem)s Go back, correct it and try again.", field=field, problem=message)
    return Response(render_template("errors/error.html", code=400, title=_("Invalid characters"), message=text),
                    status=400, mimetype="text/html")


def install_input_guard(app: Flask) -> None:
    """Register the ``before_request`` hook that answers 400 for control characters in any input."""

    @app.before_request
    def _refuse_control_characters() -> Response | None:
        if request.endpoint in EXEMPT_ENDPOINTS:
            return None
        found = find_control_character(_request_strings())
        if found is None:
            return None
        return _refuse(*found)


#: Something that reads as an email address inside a name (``x@evil.example``).
_ADDRESS_LOOKALIKE = re.compile(r"[^\s@]+@[^\s@]+")
#: A person's name as a pydantic / JSON Schema ``pattern``: one line, no control characters,
#: no angle brackets and no ``@``, so it can never pass for an address in a mail header.
PERSON_NAME_PATTERN = r"^[^\x00-\x1f\x7f-\x9f<>@]*$"


def single_line_problem(text: str) -> str | None:
    """Why ``text`` cannot be a single-line value (a line break or another control character), or ``None``."""
    if "\r" in text or "\n" in text:
        return _("Use a single line (no line breaks).")
    hit = SINGLE_LINE_FORBIDDEN.search(text)
    if hit:
        return control_character_message(hit.group())
    return None


def person_name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a person's name (see :data:`PERSON_NAME_PATTERN`), or ``None``."""
    problem = single_line_problem(text)
    if problem:
        return problem
    if "<" in text or ">" in text:
        return _("A name cannot contain < or >.")
    if _ADDRESS_LOOKALIKE.search(text) or "@" in text:
        return _("A name cannot contain @ or an email address; put the email address in its own field.")
    return None


def single_line(form: Any, field: Any) -> None:
    """WTForms validator: the field's text is one line without control characters.

    Raises:
        wtforms.validators.ValidationError: with :func:`single_line_problem`'s sentence.
    """
    from wtforms.validators import ValidationError

    problem = single_line_problem(field.data or "") if isinstance(field.data, str) else None
    if problem:
        raise ValidationError(problem)


def person_name(form: Any, field: Any) -> None:
    """WTForms validator: the field is a usable person's name (:func:`person_name_problem`).

    Raises:
        wtforms.validators.ValidationError: with the reason.
    """
    from wtforms.validators import ValidationError

    problem = person_name_problem(field.data or "") if isinstance(field.data, str) else None
    if problem:
        raise ValidationError(problem)
