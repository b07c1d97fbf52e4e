"""The request wizard: five HTMX steps on the apex, each saved on a draft job request.

``/requests/new/<step>`` for ``category``, ``questions``, ``location``, ``timing``, ``contact``
(:data:`app.leads.wizard.STEPS`). GET shows the step with what the draft holds (so going back
and refreshing keep answers); POST checks and saves it, then shows the next step (HTMX: the
``wizard`` block, with ``HX-Push-Url``; plain forms: a 303 redirect). Bad input answers 422 with
each message beside its field and nothing saved. The draft's id lives in the session only: the
URLs carry no id, so a shared link shows nothing of anyone's request.

The last step submits (:func:`app.leads.submit.submit_request`): a signed-in customer's request
opens at once; a guest's waits for the link emailed to them (``/requests/confirm/<token>``).
Either way the visitor lands on ``/requests/sent``. Every POST is rate-limited per client IP
(:data:`WIZARD_LIMIT`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.service import request_actor
from app.blueprints.requests import bp
from app.errors import InputError
from app.extensions import limiter
from app.leads.models import JobRequest
from app.leads.questions import AnswersInvalid, questions_for
from app.leads.questions_models import KIND_LABELS
from app.leads.submit import RequestNotConfirmable, active_categories, confirm_request, submit_request
from app.leads.wizard import (
    STEPS,
    first_open_step,
    get_draft,
    remove_photo,
    save_answers,
    save_category,
    save_contact,
    save_location,
    save_timing,
)
from app.storage.urls import url_for_key
from app.web import apex_only, is_htmx, parse_uuid, render_page

#: Wizard POSTs per client IP (Flask-Limiter syntax): a person needs a handful per request.
WIZARD_LIMIT = "60 per hour;200 per day"
#: Session keys: the draft's id, and what the "request sent" page shows.
DRAFT_KEY = "job_request_draft"
SENT_KEY = "job_request_sent"
#: Session key: the index of the furthest step the draft has reached (where ``/requests/new`` resumes).
REACHED_KEY = "job_request_reached"
STEP_TITLES = {"category": _l("What do you need?"), "questions": _l("Tell us about the job"), "location": _l("Where?"),
               "timing": _l("When?"), "contact": _l("Your details")}
TEMPLATE = "requests/wizard.html"


def current_draft() -> JobRequest | None:
    """The session's draft, if it is still a draft."""
    return get_draft(parse_uuid(session.get(DRAFT_KEY)))


def field_name(error_field: str) -> str:
    """The form field of a domain error field (``answers.<id>`` -> ``q_<id>``)."""
    return "q_" + error_field.split(".", 1)[1] if error_field.startswith("answers.") else error_field


def _page(step: str, draft: JobRequest | None, *, errors: dict[str, str] | None = None,
          entered: dict[str, Any] | None = None, status: int = 200) -> Response:
    questions = questions_for(draft.category_slug) if draft is not None and draft.category_slug else []
    photos = {key: url_for_key(key, private=True) for key in (draft.photos if draft else []) or []}
    for value in (draft.answers if draft else {}).values():
        if isinstance(value, list):
            photos.update({k: url_for_key(k, private=True) for k in value if k.startswith("job-requests/")})
    account = current_user if current_user.is_authenticated else None
    resp = render_page(
        TEMPLATE, block="wizard", status=status, step=step, steps=STEPS, titles=STEP_TITLES,
        index=STEPS.index(step), draft=draft, errors=errors or {}, entered=entered, questions=questions,
        categories=active_categories(), kinds=KIND_LABELS, photo_urls=photos, account=account,
        tile_url=current_app.config.get("MAP_TILE_URL", ""), attribution=current_app.config.get("MAP_ATTRIBUTION", ""),
        today=date.today().isoformat())
    return resp


def _advance(step: str, draft: JobRequest) -> Response:
    """Show the step after ``step`` (HTMX: its block, pushing its URL; else redirect)."""
    following = STEPS[STEPS.index(step) + 1]
    if is_htmx():
        resp = _page(following, draft)
        resp.headers["HX-Push-Url"] = url_for("requests.step", step=following)
        return resp
    return redirect(url_for("requests.step", step=following), 303)


@bp.get("/new")
@apex_only
def new() -> Response:
    """Start or resume: the first step the session's draft has not been through."""
    draft = current_draft()
    reached = session.get(REACHED_KEY, 0) if draft is not None else 0
    step = STEPS[reached] if isinstance(reached, int) and 0 <= reached < len(STEPS) else first_open_step(draft)
    return redirect(url_for("requests.step", step=step))


def _date(raw: str | None, field: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(_("Enter a date."), field) from None


def _coord(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        raise InputError(_("This point is not on the map."), "location.lat") from None


def _save(step: str, draft: JobRequest | None) -> JobRequest:
    form = request.form
    if step == "category":
        return save_category(draft, form.get("category", ""), locale=request.accept_languages.best or "en")
    if draft is None:
        raise InputError(_("Start with what you need."), "category")
    if step == "questions":
        if form.get("remove_photo"):
            return remove_photo(draft, form["remove_photo"])
        answers: dict[str, Any] = {}
        for q in questions_for(draft.category_slug):
            name = f"q_{q.id}"
            if q.kind == "multiple_choice":
                answers[str(q.id)] = form.getlist(name)
            elif q.kind == "photo":
                kept = [k for k in (draft.answers or {}).get(str(q.id), []) if isinstance(k, str)]
                answers[str(q.id)] = kept + [f.read() for f in request.files.getlist(name) if f and f.filename]
            else:
                answers[str(q.id)] = form.get(name, "")
        photos = [f.read() for f in request.files.getlist("photos") if f and f.filename]
        return save_answers(draft, answers, form.get("details", ""), photos)
    if step == "location":
        return save_location(draft, form.get("postcode", ""), _coord(form.get("lat")), _coord(form.get("lon")))
    if step == "timing":
        kind = form.get("timing", "")
        return save_timing(draft, kind, _date(form.get("start"), "timing.start"), _date(form.get("end"), "timing.end"))
    if current_user.is_authenticated:
        return save_contact(draft, current_user.name or form.get("name", ""), current_user.email,
                            form.get("phone", ""))
    return save_contact(draft, form.get("name", ""), form.get("email", ""), form.get("phone", ""))


@bp.route("/new/<step>", methods=["GET", "POST"])
@apex_only
@limiter.limit(WIZARD_LIMIT, methods=["POST"])
def step(step: str) -> Response:
    """One wizard step (module docstring)."""
    if step not in STEPS:
        abort(404)
    draft = current_draft()
    if draft is None and step != "category":
        return redirect(url_for("requests.step", step="category"))
    if request.method == "GET":
        return _page(step, draft)
    try:
        draft = _save(step, draft)
        if step == "contact":
            user_id = current_user.id if current_user.is_authenticated else None
            done = submit_request(draft, actor=request_actor(), user_id=user_id)
    except AnswersInvalid as exc:
        errors = {field_name(e["field"]): e["message"] for e in exc.errors}
        return _page(step, draft, errors=errors, entered=request.form.to_dict(flat=False), status=422)
    except InputError as exc:
        errors = {field_name(exc.field or "form"): exc.message}
        return _page(step, draft, errors=errors, entered=request.form.to_dict(flat=False), status=422)
    if session.get(DRAFT_KEY) != str(draft.id):
        session[REACHED_KEY] = 0
    session[DRAFT_KEY] = str(draft.id)
    if step != "contact":
        session[REACHED_KEY] = max(session.get(REACHED_KEY, 0), STEPS.index(step) + 1)
        if request.form.get("remove_photo"):
            return _page(step, draft)
        return _advance(step, draft)
    session.pop(DRAFT_KEY, None)
    session.pop(REACHED_KEY, None)
    opened = done.job_request.status == "open"
    session[SENT_KEY] = {"title": done.job_request.title, "email": done.job_request.contact_email,
                         "manage_url": done.manage_url if opened else None}
    target = url_for("requests.sent")
    if is_htmx():
        resp = current_app.make_response(("", 204))
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target, 303)


@bp.get("/sent")
@apex_only
def sent() -> Response:
    """After the last step: the manage link (signed in), or "check your email" (a guest)."""
    facts = session.get(SENT_KEY)
    if not facts:
        return redirect(url_for("requests.new"))
    return render_page("requests/sent.html", facts=facts, error=None)


@bp.get("/confirm/<token>")
@apex_only
def confirm(token: str) -> Response:
    """A guest's emailed link: a page with one button that confirms the request. Opening the link
    changes nothing, so a mail scanner that follows links cannot send a request on its own."""
    return render_page("requests/sent.html", facts=None, error=None, confirm_token=token)


@bp.post("/confirm/<token>")
@apex_only
@limiter.limit(WIZARD_LIMIT)
def confirm_post(token: str) -> Response:
    """The button on the emailed link's page: opens the request and shows its manage link."""
    try:
        done = confirm_request(token, actor=request_actor())
    except RequestNotConfirmable as exc:
        return render_page("requests/sent.html", facts=None, error=exc.message, status=400)
    facts = {"title": done.job_request.title, "email": done.job_request.contact_email,
             "manage_url": done.manage_url}
    session[SENT_KEY] = facts
    return render_page("requests/sent.html", facts=facts, error=None)
