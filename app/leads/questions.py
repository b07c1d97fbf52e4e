"""Reading the wizard's questions and checking answers to them (platform tables; no tenant).

:func:`questions_for` lists what a category asks (its own active questions, then the global
ones, each by ``position``). :func:`clean_answers` checks a whole set of answers — unknown
question, missing required answer, wrong type — and returns them normalised (the shapes below),
or raises :class:`AnswersInvalid` listing each question at fault. :func:`answers_summary` writes
them as providers read them, and :func:`complexity_of` scores them with the category's tiers.

Normalised values, by kind: ``short_text``/``long_text`` a stripped str; ``single_choice`` an
option's ``value``; ``multiple_choice`` a list of option values (in the options' order);
``number`` an int or float from 0 to :data:`MAX_NUMBER`; ``date`` an ISO date ``YYYY-MM-DD``;
``yes_no`` a bool; ``photo`` a list of storage keys under the request's own prefix.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from app.errors import InputError
from app.extensions import db
from app.formatting import format_number
from app.leads.complexity import Complexity, complexity_score, tier_for
from app.leads.questions_models import DEFAULT_TIERS, ComplexityTier, JobQuestion
from app.tenants.context import platform_scope

#: Longest answers, in characters.
SHORT_TEXT_MAX = 200
LONG_TEXT_MAX = 4000
#: Largest number answer accepted.
MAX_NUMBER = 1_000_000
#: Most photos one photo question (or the request) holds.
MAX_PHOTOS = 6


class AnswersInvalid(InputError):
    """Answers that cannot be accepted: ``errors`` lists ``{"field", "message"}`` with ``field``
    ``answers.<question id>`` (or ``answers`` for the set as a whole); ``message`` is the first."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors[0]["message"], errors[0]["field"])
        self.errors = errors


def questions_for(category_slug: str | None, *, include_retired: bool = False) -> list[JobQuestion]:
    """The questions asked for ``category_slug`` (its own, then the global ones), by position."""
    scope = [JobQuestion.category_slug.is_(None)]
    if category_slug:
        scope.append(JobQuestion.category_slug == category_slug)
    stmt = sa.select(JobQuestion).where(sa.or_(*scope))
    if not include_retired:
        stmt = stmt.where(JobQuestion.active.is_(True))
    stmt = stmt.order_by(JobQuestion.category_slug.is_(None), JobQuestion.position, JobQuestion.created_at)
    with platform_scope("job request: the wizard's questions"):
        return list(db.session.scalars(stmt))


def tiers_for(category_slug: str | None) -> list[tuple[int, int, int]]:
    """``(tier, min_score, credits)`` of ``category_slug``: its own rows, else the global rows,
    else :data:`DEFAULT_TIERS`."""
    with platform_scope("job request: complexity tiers"):
        rows = db.session.scalars(sa.select(ComplexityTier).where(
            sa.or_(ComplexityTier.category_slug == category_slug, ComplexityTier.category_slug.is_(None)))).all()
    own = [(r.tier, r.min_score, r.credits) for r in rows if r.category_slug and r.category_slug == category_slug]
    common = [(r.tier, r.min_score, r.credits) for r in rows if r.category_slug is None]
    return own or common or list(DEFAULT_TIERS)


def complexity_of(category_slug: str | None, questions: Sequence[JobQuestion], answers: Mapping[str, Any]
                  ) -> Complexity:
    """Score ``answers`` (normalised) to ``questions`` and map it to the category's tier."""
    return tier_for(complexity_score(questions, answers), tiers_for(category_slug))


def _option_values(question: JobQuestion) -> list[str]:
    return [str(o["value"]) for o in question.options or []]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def clean_answer(question: JobQuestion, value: Any, *, photo_prefix: str | None = None) -> Any:
    """``value`` normalised for ``question`` (module docstring), ``None`` when blank.

    Form input is accepted too: numbers and dates as strings, yes/no as ``"yes"``/``"no"``, a
    single multiple-choice value as a str. Raises ``ValueError`` with a user-facing message when
    the value has the wrong type or is out of range.
    """
    if _is_blank(value):
        return None
    kind = question.kind
    if kind in ("short_text", "long_text"):
        if not isinstance(value, str):
            raise ValueError(_("Write the answer as text."))
        limit = SHORT_TEXT_MAX if kind == "short_text" else LONG_TEXT_MAX
        text = value.strip() if kind == "long_text" else " ".join(value.split())
        if len(text) > limit:
            raise ValueError(_("Use at most %(num)s characters.", num=format_number(limit)))
        return text
    if kind == "single_choice":
        if not isinstance(value, str) or value not in _option_values(question):
            raise ValueError(_("Choose one of the options."))
        return value
    if kind == "multiple_choice":
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(_("Choose from the options."))
        known = _option_values(question)
        if any(v not in known for v in values):
            raise ValueError(_("Choose from the options."))
        return [v for v in known if v in values]
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError(_("Enter a number."))
        if isinstance(value, str):
            try:
                value = float(value.strip().replace(",", "."))
            except ValueError:
                raise ValueError(_("Enter a number.")) from None
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(_("Enter a number."))
        if not 0 <= value <= MAX_NUMBER:
            raise ValueError(_("Enter a number from 0 to %(max)s.", max=format_number(MAX_NUMBER)))
        return int(value) if float(value).is_integer() else float(value)
    if kind == "date":
        try:
            day = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            day = None
        if day is None or not 2000 <= day.year <= 2100:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
        return day.isoformat()
    if kind == "yes_no":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("yes", "no", "true", "false"):
            return value.lower() in ("yes", "true")
        raise ValueError(_("Answer yes or no."))
    if kind == "photo":
        keys = value if isinstance(value, list) else None
        if (keys is None or photo_prefix is None or len(keys) > MAX_PHOTOS
                or not all(isinstance(k, str) and k.startswith(photo_prefix) for k in keys)):
            raise ValueError(_("Add photos in the request wizard."))
        return keys
    raise ValueError(_("This question cannot be answered."))


def clean_answers(questions: Sequence[JobQuestion], answers: Mapping[str, Any], *,
                  photo_prefix: str | None = None, enforce_required: bool = True) -> dict[str, Any]:
    """Check ``answers`` (question id as str -> value) against ``questions`` (those asked) and
    return them normalised, blanks left out.

    A required photo question is only enforced where photos can be added (``photo_prefix``
    given). Raises :class:`AnswersInvalid` listing every unknown question, missing required
    answer and wrong type.
    """
    errors: list[dict[str, str]] = []
    if not isinstance(answers, Mapping):
        raise AnswersInvalid([{"field": "answers", "message": _("Send the answers as an object of question id -> value.")}])
    by_id = {str(q.id): q for q in questions}
    for key in answers:
        if str(key) not in by_id:
            errors.append({"field": f"answers.{key}", "message": _("This is not a question of this category.")})
    out: dict[str, Any] = {}
    for qid, question in by_id.items():
        try:
            value = clean_answer(question, answers.get(qid), photo_prefix=photo_prefix)
        except ValueError as exc:
            errors.append({"field": f"answers.{qid}", "message": str(exc)})
            continue
        if value is None:
            if enforce_required and question.required and (question.kind != "photo" or photo_prefix is not None):
                errors.append({"field": f"answers.{qid}", "message": _("Answer “%(question)s”.", question=question.label)})
            continue
        out[qid] = value
    if errors:
        raise AnswersInvalid(errors)
    return out


def answer_text(question: JobQuestion, value: Any) -> str:
    """A normalised answer as a provider reads it (``"Yes"``, ``"Kitchen, Bathroom"``, ``"2 photos"``)."""
    labels = {str(o["value"]): str(o["label"]) for o in question.options or []}
    if question.kind == "single_choice":
        return labels.get(value, str(value))
    if question.kind == "multiple_choice":
        return ", ".join(labels.get(v, v) for v in value)
    if question.kind == "yes_no":
        return "Yes" if value else "No"
    if question.kind == "photo":
        return f"{len(value)} photo" + ("" if len(value) == 1 else "s")
    return str(value)


def answers_summary(questions: Sequence[JobQuestion], answers: Mapping[str, Any]) -> list[dict[str, str]]:
    """``[{"label", "text"}]`` of the answered questions, in the questions' order."""
    return [{"label": q.label, "text": answer_text(q, answers[str(q.id)])}
            for q in questions if str(q.id) in answers]


def get_question(question_id: uuid.UUID) -> JobQuestion | None:
    """The question ``question_id`` (retired or not), or ``None``."""
    with platform_scope("job request: one question"):
        return db.session.get(JobQuestion, question_id)
