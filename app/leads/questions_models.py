"""The wizard's questions and the complexity tiers, defined by platform admins without a deploy.

``job_question`` (platform table, read-only for tenant hosts): one question of the request wizard,
for one marketplace category (``category_slug``) or for every category (``None``: global). Its
``kind`` is one of :data:`QUESTION_KINDS`. Choice questions carry ``options`` (a list of
``{"value", "label", "weight"}``); yes/no and number questions carry a ``weight``. A number
answer adds ``weight * min(value, number_cap) / number_cap`` (so ``weight`` is reached at
``number_cap`` units and never passed). Retired questions (``active`` false) are no longer asked
but stay for the requests that answered them.

``job_complexity_tier`` (platform table): a complexity score (0–100) at or above ``min_score``
falls in ``tier`` and costs ``credits`` per claim. Rows of a category override the global rows
(``category_slug`` ``None``); with no rows at all :data:`DEFAULT_TIERS` applies.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow

#: The eight input types a question may have.
QUESTION_KINDS = ("short_text", "long_text", "single_choice", "multiple_choice", "number", "date", "yes_no", "photo")
#: Human names of the kinds (console and forms).
KIND_LABELS = {"short_text": "Short text", "long_text": "Long text", "single_choice": "Single choice",
               "multiple_choice": "Multiple choice", "number": "Number", "date": "Date", "yes_no": "Yes / no",
               "photo": "Photo"}
#: Kinds whose answer is one or more of the question's options.
CHOICE_KINDS = ("single_choice", "multiple_choice")
#: Kinds whose ``weight`` counts towards the complexity score.
WEIGHTED_KINDS = ("single_choice", "multiple_choice", "number", "yes_no")
#: Seed tiers ``(tier, min_score, credits)``: 1 to 5 credits, the top tier from a score of 80.
DEFAULT_TIERS = ((1, 0, 1), (2, 20, 2), (3, 40, 3), (4, 60, 4), (5, 80, 5))


class JobQuestion(db.Model):
    """One wizard question (platform table; see the module docstring for the fields' meaning)."""

    __tablename__ = "job_question"
    __table_args__ = (
        sa.CheckConstraint("kind in ('short_text', 'long_text', 'single_choice', 'multiple_choice', 'number', "
                           "'date', 'yes_no', 'photo')", name="job_question_kind"),
        sa.CheckConstraint("weight >= 0 and weight <= 1000", name="job_question_weight"),
        sa.CheckConstraint("number_cap >= 1", name="job_question_number_cap"),
        sa.Index("job_question_category_idx", "category_slug", "position"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    category_slug: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("marketplace_category.slug", onupdate="CASCADE", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    label: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    help_text: Mapped[str] = mapped_column(sa.String(400), nullable=False, default="")
    required: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    #: ``[{"value": str, "label": str, "weight": int}]`` for the choice kinds, else ``[]``.
    options: Mapped[list] = mapped_column(JSONB, nullable=False, default=list)
    weight: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    number_cap: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=10)
    active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)


class ComplexityTier(db.Model):
    """One complexity tier of a category (``None``: global): scores from ``min_score`` (0–100)
    fall in ``tier`` (1–9) and cost ``credits`` per claim."""

    __tablename__ = "job_complexity_tier"
    __table_args__ = (
        sa.UniqueConstraint("category_slug", "tier", name="job_complexity_tier_once"),
        sa.CheckConstraint("min_score between 0 and 100", name="job_complexity_tier_score"),
        sa.CheckConstraint("tier between 1 and 9", name="job_complexity_tier_tier"),
        sa.CheckConstraint("credits between 0 and 100", name="job_complexity_tier_credits"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    category_slug: Mapped[str | None] = mapped_column(
        sa.String(40), sa.ForeignKey("marketplace_category.slug", onupdate="CASCADE", ondelete="CASCADE"))
    tier: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    min_score: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    credits: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
