"""The ``job_routing_candidate`` table: every provider each routing round considered, picked or not.

A platform table (no ``tenant_id``; ``migrations.rls.PLATFORM_ONLY_TABLES``): the console reads it
to show an admin why a provider did or did not get a lead. One row per (request, round,
business): the tier it matched in, its distance, score (0–1) and score parts (factor ->
``{"value", "weight", "contribution"}``), its rank in the round, and the outcome (``offered`` —
a lead was made; ``not_picked`` — below the top N; ``manual`` — an admin assigned it).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class CandidateOutcome(enum.StrEnum):
    """What a round did with a candidate: ``offered`` (top N: a lead), ``not_picked`` (ranked below
    the top N), ``manual`` (assigned by an admin from the manual-fulfilment queue)."""

    OFFERED = "offered"
    NOT_PICKED = "not_picked"
    MANUAL = "manual"


class RoutingCandidate(db.Model):
    """One provider considered in one routing round of a job request (see the module docstring).

    ``tier`` is a :class:`app.leads.models.RoutingTier` (``None`` for a manual assignment outside
    every tier); ``distance_km`` from the provider's point to the job's (``None`` when either is
    unknown); ``rank`` 1 = best in the round; ``lead_id`` the lead made for it (offered/manual).
    """

    __tablename__ = "job_routing_candidate"
    __table_args__ = (
        sa.UniqueConstraint("job_request_id", "round", "business_id", name="job_routing_candidate_once"),
        sa.CheckConstraint("outcome in ('offered', 'not_picked', 'manual')", name="job_routing_candidate_outcome"),
        sa.Index("job_routing_candidate_request_idx", "job_request_id", "round"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    job_request_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("job_request.id", ondelete="CASCADE"),
                                                      nullable=False)
    round: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    business_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, sa.ForeignKey("tenant.id", ondelete="CASCADE"),
                                                   nullable=False, index=True)
    business_name: Mapped[str] = mapped_column(sa.String(120), nullable=False, default="")
    tier: Mapped[int | None] = mapped_column(sa.SmallInteger)
    distance_km: Mapped[float | None] = mapped_column(sa.Float)
    score: Mapped[float] = mapped_column(sa.Float, nullable=False, default=0.0)
    score_parts: Mapped[dict] = mapped_column(JSONB, nullable=False, default=dict)
    rank: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False, default=0)
    outcome: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
