"""The ``dispute`` and ``dispute_evidence`` tables: a customer's dispute or refund request about
one paid booking, and the files each side attached.

One table holds both kinds (``kind``: ``dispute`` or ``refund_request``) because they share the
life cycle that matters to the platform: the business answers first, by a deadline, and the
platform decides what the business did not settle. A Stripe chargeback (``charge.dispute.*``)
is a ``dispute`` row with ``stripe_dispute_id`` set and Stripe's evidence deadline.

Both tables are tenant tables (``TenantScoped``, RLS). Money is integer minor units plus the
booking's ISO 4217 currency; instants are tz-aware UTC.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenants.guard import TenantScoped, tenant_fk
from app.timeutil import utcnow

#: Longest description, answer and decision reason (characters).
MAX_TEXT = 4000


class DisputeKind(enum.StrEnum):
    """A ``dispute`` (evidence, decided by the platform when the business does not settle it) or
    a ``refund_request`` (the business accepts or declines; declined or unanswered ones go to the platform)."""

    DISPUTE = "dispute"
    REFUND_REQUEST = "refund_request"


class DisputeStatus(enum.StrEnum):
    """Where a case stands: ``open`` (just opened, e.g. by Stripe before the business is asked),
    ``awaiting_business`` (the business must answer by ``business_due_at``), ``escalated`` (the
    platform decides), ``decided`` (full or partial refund, or rejected), ``closed``."""

    OPEN = "open"
    AWAITING_BUSINESS = "awaiting_business"
    ESCALATED = "escalated"
    DECIDED = "decided"
    CLOSED = "closed"


#: Reason codes of each kind -> their label.
DISPUTE_REASONS: dict[str, object] = {
    "not_attended": _l("The service did not take place"),
    "poor_quality": _l("Poor quality"),
    "charged_wrongly": _l("Charged wrongly"),
    "other": _l("Other"),
}
REFUND_REASONS: dict[str, object] = {
    "cancelled_by_business": _l("Cancelled by the business"),
    "not_as_described": _l("Service not as described"),
    "double_charge": _l("Charged twice"),
    "other": _l("Other"),
}
#: Decision codes -> label.
DECISIONS: dict[str, object] = {
    "full_refund": _l("Full refund"),
    "partial_refund": _l("Partial refund"),
    "rejected": _l("Rejected"),
    "accepted": _l("Accepted by the business (refunded)"),
}


#: Status codes -> label.
STATUS_LABELS: dict[str, object] = {
    "open": _l("Open"),
    "awaiting_business": _l("Awaiting business"),
    "escalated": _l("Escalated"),
    "decided": _l("Decided"),
    "closed": _l("Closed"),
}


class Dispute(TenantScoped, db.Model):
    """A dispute or refund request on one booking (see the module docstring).

    ``paid_amount`` is what the customer had paid and not had refunded when the case opened
    (minor units of ``currency``); ``refund_amount`` what the decision refunded.
    ``customer_user_id`` is the customer's account (``None`` for a Stripe chargeback of a guest).
    """

    __tablename__ = "dispute"
    __table_args__ = (
        tenant_fk(["booking_id"], "booking"),
        sa.UniqueConstraint("tenant_id", "stripe_dispute_id", name="dispute_stripe_unique"),
        sa.CheckConstraint("kind in ('dispute', 'refund_request')", name="dispute_kind"),
        sa.CheckConstraint("status in ('open', 'awaiting_business', 'escalated', 'decided', 'closed')",
                           name="dispute_status"),
        sa.CheckConstraint("refund_amount >= 0 and refund_amount <= paid_amount", name="dispute_refund_range"),
        sa.Index("dispute_status_due", "status", "business_due_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    booking_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False)
    customer_user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    reason: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    paid_amount: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    business_due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    business_answer: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    business_answered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decision: Mapped[str | None] = mapped_column(sa.String(16))
    decision_reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    refund_amount: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    refund_id: Mapped[str | None] = mapped_column(sa.String(64))
    decided_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    stripe_dispute_id: Mapped[str | None] = mapped_column(sa.String(64))
    stripe_status: Mapped[str | None] = mapped_column(sa.String(32))
    stripe_evidence_due_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)

    @property
    def reason_label(self) -> str:
        """The reason code's label."""
        labels = DISPUTE_REASONS if self.kind == DisputeKind.DISPUTE else REFUND_REASONS
        return str(labels.get(self.reason, self.reason))

    @property
    def decision_label(self) -> str:
        """The decision's label (empty before a decision)."""
        return str(DECISIONS.get(self.decision or "", ""))

    @property
    def status_label(self) -> str:
        """The status's label in the reader's language ("Awaiting business")."""
        return str(STATUS_LABELS.get(self.status, self.status))


class DisputeEvidence(TenantScoped, db.Model):
    """One file attached to a case by ``party`` (``customer``, ``business`` or ``platform``),
    stored privately under ``storage_key`` (served only through short-lived signed URLs)."""

    __tablename__ = "dispute_evidence"
    __table_args__ = (
        tenant_fk(["dispute_id"], "dispute"),
        sa.CheckConstraint("party in ('customer', 'business', 'platform')", name="dispute_evidence_party"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    dispute_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, nullable=False, index=True)
    party: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    storage_key: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, default=utcnow)
