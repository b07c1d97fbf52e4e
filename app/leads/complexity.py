"""The complexity score of a job request: pure functions, no database.

Each weighted question (:data:`app.leads.questions_models.WEIGHTED_KINDS`) can add up to its
*maximum*: a single choice its heaviest option, a multiple choice the sum of its options, a
yes/no or number question its ``weight``. The answer adds:

* single choice: the chosen option's weight;
* multiple choice: the sum of the chosen options' weights;
* yes/no: ``weight`` for yes, 0 for no;
* number: ``weight * min(max(value, 0), number_cap) / number_cap``.

The score is ``round(100 * added / maximum)`` over every question asked (answered or not), 0 when
nothing is weighted. Tiers are ``(tier, min_score, credits)``: the score falls in the highest tier
whose ``min_score`` it reaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class WeightedQuestion(Protocol):
    """What the score reads of a question (a :class:`~app.leads.questions_models.JobQuestion`)."""

    id: Any
    kind: str
    options: list
    weight: int
    number_cap: int


@dataclass(frozen=True)
class Complexity:
    """A request's ``score`` (0–100), its ``tier`` and the ``credits`` a claim costs."""

    score: int
    tier: int
    credits: int


def question_maximum(question: WeightedQuestion) -> float:
    """The most ``question`` can add to the score (0 for unweighted kinds)."""
    weights = [max(0, int(o.get("weight") or 0)) for o in question.options or []]
    if question.kind == "single_choice":
        return float(max(weights, default=0))
    if question.kind == "multiple_choice":
        return float(sum(weights))
    if question.kind in ("yes_no", "number"):
        return float(max(0, question.weight))
    return 0.0


def answer_weight(question: WeightedQuestion, value: Any) -> float:
    """What the (already validated) answer ``value`` adds for ``question``; ``None`` adds 0."""
    if value is None:
        return 0.0
    weights = {o["value"]: max(0, int(o.get("weight") or 0)) for o in question.options or []}
    if question.kind == "single_choice":
        return float(weights.get(value, 0))
    if question.kind == "multiple_choice":
        return float(sum(weights.get(v, 0) for v in value))
    if question.kind == "yes_no":
        return float(max(0, question.weight)) if value is True else 0.0
    if question.kind == "number":
        cap = max(1, question.number_cap)
        return max(0, question.weight) * min(max(float(value), 0.0), cap) / cap
    return 0.0


def complexity_score(questions: Iterable[WeightedQuestion], answers: Mapping[str, Any]) -> int:
    """The 0–100 score of ``answers`` (question id as str -> validated value) to ``questions``."""
    top = added = 0.0
    for question in questions:
        top += question_maximum(question)
        added += answer_weight(question, answers.get(str(question.id)))
    if top <= 0:
        return 0
    return max(0, min(100, round(100 * added / top)))


def tier_for(score: int, tiers: Sequence[tuple[int, int, int]]) -> Complexity:
    """The :class:`Complexity` of ``score`` under ``tiers`` (``(tier, min_score, credits)``, any
    order). Raises ``ValueError`` when ``tiers`` is empty."""
    if not tiers:
        raise ValueError("no complexity tiers")
    ordered = sorted(tiers, key=lambda t: (t[1], t[0]))
    chosen = ordered[0]
    for tier in ordered:
        if score >= tier[1]:
            chosen = tier
    return Complexity(score=score, tier=chosen[0], credits=chosen[2])
