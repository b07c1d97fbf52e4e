"""Platform admins edit the wizard's questions and the complexity tiers (console ``/admin/questions``).

Every change flushes with its audit entry (``job_question.added``, ``.changed``, ``.moved``,
``.retired``, ``.restored``; ``job_complexity_tier.set``), never commits. Changes apply to the
next request at once: no deploy. Input errors raise :class:`QuestionInvalid` naming the field.

Options are written one per line as ``Label = weight`` (weight a whole number 0–1000, ``= 0``
when left out); an option's ``value`` is made from its label (``Burst pipe`` -> ``burst-pipe``).
Tiers are written one per line as ``min_score: credits`` (scores 0–100, the first line 0),
numbered 1, 2, … in order of score.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.errors import InputError
from app.extensions import db
from app.leads.questions_models import CHOICE_KINDS, QUESTION_KINDS, ComplexityTier, JobQuestion
from app.tenants.context import platform_scope
from app.tenants.models import MarketplaceCategory
from app.timeutil import utcnow

#: Most options a choice question has.
MAX_OPTIONS = 30
#: Most tiers per category.
MAX_TIERS = 9


class QuestionInvalid(InputError):
    """A question or tier edit that cannot be made (``field`` names the form field)."""


@dataclass(frozen=True)
class QuestionInput:
    """A question as an admin typed it: ``kind`` (one of :data:`QUESTION_KINDS`), ``label``,
    ``help_text``, ``required``, ``options`` (text, see the module docstring), ``weight``
    (0–1000, for yes/no and number) and ``number_cap`` (units at which a number reaches its weight)."""

    kind: str
    label: str
    help_text: str
    required: bool
    options: str
    weight: str
    number_cap: str


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or "option"


def parse_options(text: str) -> list[dict]:
    """``[{"value", "label", "weight"}]`` from ``Label = weight`` lines (blank lines skipped).

    Raises:
        QuestionInvalid: a weight that is not a whole number 0–1000, a repeated label, too many.
    """
    out: list[dict] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        label, _sep, weight = line.partition("=")
        label = " ".join(label.split())[:120]
        weight = weight.strip() or "0"
        if not label:
            raise QuestionInvalid(_("Each option needs a label before its “=”."), "options")
        if not weight.isdigit() or int(weight) > 1000:
            raise QuestionInvalid(_("The weight of “%(label)s” must be a whole number from 0 to 1000.", label=label), "options")
        value = _slug(label)
        if any(o["value"] == value for o in out):
            raise QuestionInvalid(_("“%(label)s” is listed twice.", label=label), "options")
        out.append({"value": value, "label": label, "weight": int(weight)})
    if len(out) > MAX_OPTIONS:
        raise QuestionInvalid(_("Give at most %(num)d options.", num=MAX_OPTIONS), "options")
    return out


def options_text(options: list[dict]) -> str:
    """The options as the editor shows them (``Label = weight`` lines)."""
    return "\n".join(f"{o['label']} = {o.get('weight', 0)}" for o in options or [])


def _whole(raw: str, field: str, low: int, high: int, default: int) -> int:
    raw = (raw or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise QuestionInvalid(_("Enter a whole number from %(low)d to %(high)d.", low=low, high=high), field)
    return int(raw)


def _checked(data: QuestionInput) -> dict:
    if data.kind not in QUESTION_KINDS:
        raise QuestionInvalid(_("Choose the kind of answer."), "kind")
    label = " ".join((data.label or "").split())
    if not label or len(label) > 200:
        raise QuestionInvalid(_("Write the question (at most 200 characters)."), "label")
    help_text = " ".join((data.help_text or "").split())
    if len(help_text) > 400:
        raise QuestionInvalid(_("Use at most 400 characters."), "help_text")
    options = parse_options(data.options) if data.kind in CHOICE_KINDS else []
    if data.kind in CHOICE_KINDS and len(options) < 2:
        raise QuestionInvalid(_("Give at least two options, one per line."), "options")
    weight = _whole(data.weight, "weight", 0, 1000, 0) if data.kind in ("yes_no", "number") else 0
    cap = _whole(data.number_cap, "number_cap", 1, 1_000_000, 10) if data.kind == "number" else 10
    return {"kind": data.kind, "label": label, "help_text": help_text, "required": bool(data.required),
            "options": options, "weight": weight, "number_cap": cap}


def _snapshot(q: JobQuestion) -> dict:
    return {"category": q.category_slug, "position": q.position, "kind": q.kind, "label": q.label,
            "help_text": q.help_text, "required": q.required, "options": q.options, "weight": q.weight,
            "number_cap": q.number_cap, "active": q.active}


def check_scope(category_slug: str | None) -> str | None:
    """``None`` (global) or an existing category slug. Raises :class:`QuestionInvalid`."""
    if not category_slug:
        return None
    with platform_scope("console: job questions"):
        if db.session.get(MarketplaceCategory, category_slug) is None:
            raise QuestionInvalid(_("No such category."), "category")
    return category_slug


def _in_scope(category_slug: str | None) -> list[JobQuestion]:
    cond = (JobQuestion.category_slug.is_(None) if category_slug is None
            else JobQuestion.category_slug == category_slug)
    with platform_scope("console: job questions"):
        return list(db.session.scalars(sa.select(JobQuestion).where(cond)
                                       .order_by(JobQuestion.position, JobQuestion.created_at)))


def questions_in(category_slug: str | None) -> list[JobQuestion]:
    """Every question of one scope (a category, or ``None``: global), retired ones too, by position."""
    return _in_scope(check_scope(category_slug))


def _get(question_id: uuid.UUID) -> JobQuestion:
    with platform_scope("console: job questions"):
        found = db.session.get(JobQuestion, question_id)
    if found is None:
        raise QuestionInvalid(_("This question no longer exists."), "question")
    return found


def _flush() -> None:
    with platform_scope("console: job questions"):
        db.session.flush()


def add_question(category_slug: str | None, data: QuestionInput, *, by: AuditActor) -> JobQuestion:
    """Add a question at the end of its scope. Raises :class:`QuestionInvalid`."""
    scope = check_scope(category_slug)
    fields = _checked(data)
    position = max((q.position for q in _in_scope(scope)), default=0) + 1
    question = JobQuestion(category_slug=scope, position=position, **fields)
    with platform_scope("console: job questions"):
        db.session.add(question)
    _flush()
    record_audit(by, "job_question.added", "job_question", question.id, after=_snapshot(question))
    return question


def edit_question(question_id: uuid.UUID, data: QuestionInput, *, by: AuditActor) -> JobQuestion:
    """Change a question's text, kind, options and weights. Raises :class:`QuestionInvalid`."""
    question = _get(question_id)
    before = _snapshot(question)
    for key, value in _checked(data).items():
        setattr(question, key, value)
    question.updated_at = utcnow()
    _flush()
    record_audit(by, "job_question.changed", "job_question", question.id, before=before, after=_snapshot(question))
    return question


def move_question(question_id: uuid.UUID, direction: str, *, by: AuditActor) -> None:
    """Swap a question with its neighbour (``up`` or ``down``) in its scope; at an end, nothing."""
    question = _get(question_id)
    siblings = _in_scope(question.category_slug)
    for i, q in enumerate(siblings):  # renumber 1..n so swaps are well defined
        q.position = i + 1
    i = siblings.index(question)
    j = i - 1 if direction == "up" else i + 1
    if direction not in ("up", "down") or not 0 <= j < len(siblings):
        _flush()
        return
    siblings[i].position, siblings[j].position = siblings[j].position, siblings[i].position
    _flush()
    record_audit(by, "job_question.moved", "job_question", question.id,
                 before={"position": i + 1}, after={"position": j + 1})


def set_active(question_id: uuid.UUID, active: bool, *, by: AuditActor) -> None:
    """Retire a question (no longer asked; answers already given stay) or ask it again."""
    question = _get(question_id)
    if question.active == active:
        return
    question.active = active
    question.updated_at = utcnow()
    _flush()
    record_audit(by, "job_question.restored" if active else "job_question.retired", "job_question", question.id,
                 before={"active": not active}, after={"active": active})


def parse_tiers(text: str) -> list[tuple[int, int, int]]:
    """``(tier, min_score, credits)`` from ``min_score: credits`` lines (empty: none).

    Raises:
        QuestionInvalid: malformed lines, a first score other than 0, repeated scores, too many.
    """
    pairs: list[tuple[int, int]] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        score, sep, credits = (p.strip() for p in line.partition(":"))
        if not sep or not score.isdigit() or not credits.isdigit() or int(score) > 100 or int(credits) > 100:
            raise QuestionInvalid(_("Write each tier as “score: credits”, e.g. “40: 3” (0–100 each)."), "tiers")
        pairs.append((int(score), int(credits)))
    if not pairs:
        return []
    pairs.sort()
    if pairs[0][0] != 0:
        raise QuestionInvalid(_("The first tier starts at score 0."), "tiers")
    if len({s for s, _ in pairs}) != len(pairs):
        raise QuestionInvalid(_("Each tier starts at a different score."), "tiers")
    if len(pairs) > MAX_TIERS:
        raise QuestionInvalid(_("Give at most %(num)d tiers.", num=MAX_TIERS), "tiers")
    return [(i + 1, s, c) for i, (s, c) in enumerate(pairs)]


def tiers_in(category_slug: str | None) -> list[ComplexityTier]:
    """The tier rows of one scope (none: the scope falls back to global, then the seed tiers)."""
    cond = (ComplexityTier.category_slug.is_(None) if category_slug is None
            else ComplexityTier.category_slug == category_slug)
    with platform_scope("console: complexity tiers"):
        return list(db.session.scalars(sa.select(ComplexityTier).where(cond).order_by(ComplexityTier.tier)))


def set_tiers(category_slug: str | None, text: str, *, by: AuditActor) -> list[tuple[int, int, int]]:
    """Replace the tiers of one scope with ``text`` (see :func:`parse_tiers`; empty removes them).

    Raises:
        QuestionInvalid: see :func:`parse_tiers`, or an unknown category.
    """
    scope = check_scope(category_slug)
    tiers = parse_tiers(text)
    old = tiers_in(scope)
    before = [[t.tier, t.min_score, t.credits] for t in old]
    with platform_scope("console: complexity tiers"):
        for row in old:
            db.session.delete(row)
        db.session.flush()
        db.session.add_all(ComplexityTier(category_slug=scope, tier=t, min_score=s, credits=c) for t, s, c in tiers)
        db.session.flush()
    record_audit(by, "job_complexity_tier.set", "job_complexity_tier", scope or "global",
                 before={"tiers": before}, after={"tiers": [list(t) for t in tiers]})
    return tiers
