"""The wizard's questions in the console (``/admin/questions``): per category (or global), list,
add, edit, reorder and retire questions and their options and weights, and set the complexity
tiers (score -> credits per claim). Each change is audit-logged and applies to the next request
at once. Bad input re-renders the page with the message beside its field (422).
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.audit.service import AuditActor
from app.blueprints.admin import bp
from app.blueprints.admin.access import admin_required
from app.leads.questions_admin import (
    QuestionInput,
    QuestionInvalid,
    add_question,
    edit_question,
    move_question,
    options_text,
    questions_in,
    set_active,
    set_tiers,
    tiers_in,
)
from app.leads.questions_models import DEFAULT_TIERS, KIND_LABELS
from app.leads.submit import active_categories
from app.web import parse_uuid, render_page

GLOBAL = "global"


def _actor() -> AuditActor:
    return AuditActor(current_user.id, request.remote_addr, request.user_agent.string or None)


def _scope() -> str | None:
    raw = request.values.get("category", GLOBAL)
    return None if raw in ("", GLOBAL) else raw


def _page(scope: str | None, *, status: int = 200, error: QuestionInvalid | None = None,
          failed_form: str = "", entered: dict | None = None) -> Response:
    try:
        questions = questions_in(scope)
    except QuestionInvalid:
        abort(404)
    tiers = tiers_in(scope)
    global_tiers = tiers_in(None) if scope else []
    fallback = ([(t.tier, t.min_score, t.credits) for t in global_tiers] or list(DEFAULT_TIERS))
    return render_page(
        "admin/questions.html", block="questions", status=status, scope=scope or GLOBAL,
        categories=active_categories(), questions=questions, kinds=KIND_LABELS, options_text=options_text,
        tiers_text="\n".join(f"{t.min_score}: {t.credits}" for t in tiers), fallback=fallback,
        error=error, failed_form=failed_form, entered=entered or {})


def _input() -> QuestionInput:
    f = request.form
    return QuestionInput(kind=f.get("kind", ""), label=f.get("label", ""), help_text=f.get("help_text", ""),
                         required=bool(f.get("required")), options=f.get("options", ""), weight=f.get("weight", ""),
                         number_cap=f.get("number_cap", ""))


def _back(scope: str | None, anchor: str = "") -> Response:
    return redirect(url_for("admin.questions", category=scope or GLOBAL) + anchor, 303)


@bp.get("/questions")
@admin_required
def questions() -> Response:
    """The questions and tiers of one scope (``?category=<slug>`` or ``global``)."""
    return _page(_scope())


@bp.post("/questions/add")
@admin_required
def add_job_question() -> Response:
    """Add a question to the scope."""
    scope = _scope()
    try:
        question = add_question(scope, _input(), by=_actor())
    except QuestionInvalid as exc:
        return _page(scope, status=422, error=exc, failed_form="add", entered=request.form.to_dict())
    return _back(scope, f"#q-{question.id}")


@bp.post("/questions/<question_id>/edit")
@admin_required
def edit_job_question(question_id: str) -> Response:
    """Save one question's text, kind, options and weights (``action=save``), move it
    (``up``/``down``), retire it or ask it again (``retire``/``restore``)."""
    scope, qid = _scope(), parse_uuid(question_id)
    if qid is None:
        abort(404)
    action = request.form.get("action", "save")
    try:
        if action in ("up", "down"):
            move_question(qid, action, by=_actor())
        elif action in ("retire", "restore"):
            set_active(qid, action == "restore", by=_actor())
        else:
            edit_question(qid, _input(), by=_actor())
    except QuestionInvalid as exc:
        if exc.field == "question":
            abort(404)
        return _page(scope, status=422, error=exc, failed_form=str(qid), entered=request.form.to_dict())
    return _back(scope, f"#q-{qid}")


@bp.post("/questions/tiers")
@admin_required
def set_job_tiers() -> Response:
    """Replace the scope's complexity tiers."""
    scope = _scope()
    try:
        set_tiers(scope, request.form.get("tiers", ""), by=_actor())
    except QuestionInvalid as exc:
        return _page(scope, status=422, error=exc, failed_form="tiers", entered=request.form.to_dict())
    return _back(scope, "#tiers")
