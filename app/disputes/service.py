"""Disputes and refund requests: opening, the business's answer, the platform's decision.

Life cycle (:class:`app.disputes.models.DisputeStatus`): a case opens ``awaiting_business``
with a deadline (:func:`app.disputes.settings.answer_time`). A dispute goes to the platform
(``escalated``) when the business answers or the deadline passes; a refund request is
``decided`` when the business accepts (full refund) and ``escalated`` when it declines or does
not answer. An admin decides an escalated case (full refund, partial refund, rejected), then
closes it. Every step writes an audit entry and a ``dispute.changed`` outbox event (the
notification fan-out tells both sides), in the caller's transaction.

Tenant in scope for every function; they flush and never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _

from app.audit.service import AuditActor, record_audit
from app.booking.models import Booking
from app.disputes.errors import InvalidMove, NotDisputable
from app.disputes.evidence import Upload, check_files, store_evidence
from app.disputes.models import (
    DECISIONS,
    DISPUTE_REASONS,
    MAX_TEXT,
    REFUND_REASONS,
    Dispute,
    DisputeKind,
    DisputeStatus,
)
from app.disputes.refunds import refund_for_case, refundable_amount
from app.disputes.settings import answer_time, dispute_window
from app.extensions import db
from app.formatting import format_money
from app.i18n import DEFAULT_LANGUAGE
from app.outbox.events import emit
from app.timeutil import utcnow

#: The outbox event of every step (payload: see :func:`announce`).
CHANGED_EVENT = "dispute.changed"
#: States in which a case is still being worked on.
ACTIVE = (DisputeStatus.OPEN.value, DisputeStatus.AWAITING_BUSINESS.value, DisputeStatus.ESCALATED.value)


def announce(case: Dispute, step: str, **extra: object) -> None:
    """Write the ``dispute.changed`` outbox event of ``step`` (``opened``, ``answered``,
    ``accepted``, ``declined``, ``escalated``, ``reminder``, ``decided``, ``closed``,
    ``stripe``): payload ``dispute_id``, ``kind``, ``status``, ``step``, ``customer_user_id``
    (or ``None``), ``decision``, ``refund`` (formatted money) and ``extra``; once per case and step."""
    with force_locale(DEFAULT_LANGUAGE):  # the event's words do not depend on who acted
        payload = {"dispute_id": str(case.id), "booking_id": str(case.booking_id), "kind": case.kind,
                   "status": case.status, "step": step,
                   "customer_user_id": str(case.customer_user_id) if case.customer_user_id else None,
                   "reason": case.reason_label, "decision": case.decision_label,
                   "refund": format_money(case.refund_amount, case.currency),
                   "due": case.business_due_at.isoformat() if case.business_due_at else None, **extra}
    emit(CHANGED_EVENT, payload, dedup_key=f"dispute:{case.id}:{step}:{case.status}:{case.stripe_status or ''}")


def snapshot(case: Dispute) -> dict[str, object]:
    """The audit ``before``/``after`` view of a case."""
    return {"status": case.status, "decision": case.decision, "refund_amount": case.refund_amount,
            "currency": case.currency, "business_due_at": case.business_due_at.isoformat() if case.business_due_at else None}


def get_case(case_id: uuid.UUID | None) -> Dispute | None:
    """The case ``case_id`` of the business in scope, or ``None``."""
    if case_id is None:
        return None
    return db.session.scalar(sa.select(Dispute).where(Dispute.id == case_id))


def cases_of_booking(booking_id: uuid.UUID) -> list[Dispute]:
    """Every case on ``booking_id``, newest first."""
    return list(db.session.scalars(sa.select(Dispute).where(Dispute.booking_id == booking_id)
                                   .order_by(Dispute.created_at.desc())))


def may_open(booking: Booking, kind: str, now: datetime | None = None) -> str | None:
    """Why a case of ``kind`` cannot be opened on ``booking`` now (a sentence), or ``None``."""
    now = now or utcnow()
    if refundable_amount(booking.id) <= 0:
        return _("Only a paid booking (with money not yet refunded) can be disputed.")
    if now > booking.ends_at + dispute_window():
        return _("The time to raise a problem ended %(days)s days after the booking.", days=dispute_window().days)
    active = db.session.scalar(sa.select(sa.func.count()).select_from(Dispute).where(
        Dispute.booking_id == booking.id, Dispute.kind == kind, Dispute.status.in_(ACTIVE)))
    if active:
        return _("There is already an open case of this kind on this booking.")
    return None


def open_case(actor: AuditActor, booking: Booking, *, kind: str, reason: str, description: str,
              customer_user_id: uuid.UUID | None, files: list[Upload] | None = None,
              now: datetime | None = None) -> Dispute:
    """Open a dispute or refund request (``kind``) on paid ``booking`` for its customer, with
    reason code ``reason`` (:data:`DISPUTE_REASONS` / :data:`REFUND_REASONS`), ``description``
    (plain text, at most :data:`MAX_TEXT` characters) and evidence ``files``. The business is
    asked to answer by ``now`` + :func:`answer_time`. Audited (``dispute.opened``), announced.

    Raises:
        NotDisputable: unpaid, outside the window, or a case of ``kind`` is already open.
        DisputeError: bad kind, reason or description.
        EvidenceRejected: a file is not an acceptable image or PDF.
    """
    now = now or utcnow()
    reasons = DISPUTE_REASONS if kind == DisputeKind.DISPUTE else REFUND_REASONS if kind == DisputeKind.REFUND_REQUEST else None
    if reasons is None:
        raise NotDisputable(_("Unknown kind of case."))
    if reason not in reasons:
        raise NotDisputable(_("Choose a reason."), field="reason")
    description = (description or "").strip()
    if kind == DisputeKind.DISPUTE and not description:
        raise NotDisputable(_("Describe what went wrong."), field="description")
    if len(description) > MAX_TEXT:
        raise NotDisputable(_("Keep the description under %(max)s characters.", max=MAX_TEXT), field="description")
    refusal = may_open(booking, kind, now)
    if refusal:
        raise NotDisputable(refusal)
    check_files(files or [])
    case = Dispute(kind=kind, booking_id=booking.id, customer_id=booking.customer_id,
                   customer_user_id=customer_user_id, reason=reason, description=description,
                   status=DisputeStatus.AWAITING_BUSINESS.value, paid_amount=refundable_amount(booking.id),
                   currency=booking.currency, business_due_at=now + answer_time(kind), created_at=now, updated_at=now)
    db.session.add(case)
    db.session.flush()
    store_evidence(case.id, "customer", files or [])
    record_audit(actor, f"{kind}.opened", "dispute", case.id, reason=reason, after=snapshot(case))
    announce(case, "opened")
    return case


def _require(case: Dispute, *states: str) -> None:
    if case.status not in states:
        raise InvalidMove(_("This case has moved on; reload the page to see where it stands."))


def answer_case(actor: AuditActor, case: Dispute, *, answer: str, files: list[Upload] | None = None,
                now: datetime | None = None) -> Dispute:
    """The business answers dispute ``case`` with ``answer`` (plain text) and evidence ``files``
    before its deadline; the case goes to the platform (``escalated``). Audited, announced.

    Raises:
        InvalidMove: not awaiting the business, a refund request (use accept/decline), or past the deadline.
        DisputeError: empty or too long answer. EvidenceRejected: a refused file.
    """
    now = now or utcnow()
    _require(case, DisputeStatus.AWAITING_BUSINESS.value, DisputeStatus.OPEN.value)
    if case.business_due_at and now > case.business_due_at:
        raise InvalidMove(_("The deadline to answer has passed; the platform decides this case now."))
    answer = (answer or "").strip()
    if not answer or len(answer) > MAX_TEXT:
        raise InvalidMove(_("Write your answer (at most %(max)s characters).", max=MAX_TEXT), field="answer")
    before = snapshot(case)
    store_evidence(case.id, "business", files or [])
    case.business_answer, case.business_answered_at = answer, now
    _escalate(case, now)
    record_audit(actor, "dispute.answered", "dispute", case.id, before=before, after=snapshot(case))
    announce(case, "answered")
    return case


def _escalate(case: Dispute, now: datetime) -> None:
    case.status, case.escalated_at, case.updated_at = DisputeStatus.ESCALATED.value, now, now
    db.session.flush()


def accept_refund_request(actor: AuditActor, case: Dispute, *, tenant_id: uuid.UUID,
                          now: datetime | None = None) -> Dispute:
    """The business accepts refund request ``case``: everything still refundable goes back to the
    customer through Stripe and the ledger; the case is ``decided`` (``accepted``). Audited, announced.

    Raises:
        InvalidMove: not a refund request awaiting the business, or nothing to refund.
        app.payments.gateway.GatewayError: Stripe refused or is unreachable.
    """
    now = now or utcnow()
    if case.kind != DisputeKind.REFUND_REQUEST:
        raise InvalidMove(_("Only a refund request can be accepted."))
    _require(case, DisputeStatus.AWAITING_BUSINESS.value)
    before = snapshot(case)
    amount = min(case.paid_amount, refundable_amount(case.booking_id))
    _settle(case, decision="accepted", amount=amount, reason="Accepted by the business", by=actor.user_id,
            tenant_id=tenant_id, now=now)
    record_audit(actor, "refund_request.accepted", "dispute", case.id, before=before, after=snapshot(case))
    announce(case, "accepted")
    return case


def decline_refund_request(actor: AuditActor, case: Dispute, *, reason: str, now: datetime | None = None) -> Dispute:
    """The business declines refund request ``case`` with ``reason`` (required); it goes to the
    platform's queue (``escalated``). Audited, announced.

    Raises:
        InvalidMove: not a refund request awaiting the business, or no reason.
    """
    now = now or utcnow()
    if case.kind != DisputeKind.REFUND_REQUEST:
        raise InvalidMove(_("Only a refund request can be declined."))
    _require(case, DisputeStatus.AWAITING_BUSINESS.value)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_TEXT:
        raise InvalidMove(_("Say why you decline (the customer and the platform read it)."), field="answer")
    before = snapshot(case)
    case.business_answer, case.business_answered_at = reason, now
    _escalate(case, now)
    record_audit(actor, "refund_request.declined", "dispute", case.id, reason=reason, before=before,
                 after=snapshot(case))
    announce(case, "declined")
    return case


def _settle(case: Dispute, *, decision: str, amount: int, reason: str, by: uuid.UUID | None,
            tenant_id: uuid.UUID, now: datetime) -> None:
    if amount > 0:
        with force_locale(DEFAULT_LANGUAGE):  # Stripe's dashboard reads English, whoever decided
            note = f"Refund: {str(DECISIONS[decision]).lower()} ({case.kind.replace('_', ' ')})"
        refund = refund_for_case(tenant_id=tenant_id, booking_id=case.booking_id, case_id=case.id, amount=amount,
                                 currency=case.currency, description=note)
        case.refund_id = refund["id"]
    case.decision, case.refund_amount, case.decision_reason = decision, amount, reason
    case.decided_at, case.decided_by, case.status, case.updated_at = now, by, DisputeStatus.DECIDED.value, now
    db.session.flush()


def decide_case(actor: AuditActor, case: Dispute, *, decision: str, reason: str, amount: int | None = None,
                tenant_id: uuid.UUID, now: datetime | None = None) -> Dispute:
    """A platform admin decides ``case``: ``full_refund`` (everything still refundable),
    ``partial_refund`` (``amount`` minor units, more than 0 and less than the refundable amount)
    or ``rejected``, with ``reason`` (required, shown to both sides). Refunds go through Stripe
    and the ledger. Audited (``dispute.decided``), announced.

    Raises:
        InvalidMove: the case is not open or escalated, no reason, a bad amount or decision.
        app.payments.gateway.GatewayError: Stripe refused or is unreachable.
    """
    now = now or utcnow()
    _require(case, *ACTIVE)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_TEXT:
        raise InvalidMove(_("Give the reason for the decision (both sides read it)."), field="reason")
    refundable = min(case.paid_amount, refundable_amount(case.booking_id))
    if decision == "full_refund":
        amount = refundable
    elif decision == "partial_refund":
        if amount is None or not 0 < amount < refundable:
            raise InvalidMove(_("A partial refund is more than 0 and less than %(amount)s.",
                                amount=format_money(refundable, case.currency)), field="amount")
    elif decision == "rejected":
        amount = 0
    else:
        raise InvalidMove(_("Choose a decision."), field="decision")
    before = snapshot(case)
    _settle(case, decision=decision, amount=amount, reason=reason, by=actor.user_id, tenant_id=tenant_id, now=now)
    record_audit(actor, "dispute.decided", "dispute", case.id, reason=reason, before=before, after=snapshot(case))
    announce(case, "decided")
    return case


def close_case(actor: AuditActor, case: Dispute, now: datetime | None = None) -> Dispute:
    """Close a decided case (nothing more happens to it). Audited, announced.

    Raises:
        InvalidMove: the case is not decided.
    """
    now = now or utcnow()
    _require(case, DisputeStatus.DECIDED.value)
    before = snapshot(case)
    case.status, case.updated_at = DisputeStatus.CLOSED.value, now
    db.session.flush()
    record_audit(actor, "dispute.closed", "dispute", case.id, before=before, after=snapshot(case))
    announce(case, "closed")
    return case
