"""Money outbox events (``payment.received``, ``payment.failed``, ``refund.issued``,
``payment.late_refund``…), written once each in the caller's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.outbox.events import emit
from app.outbox.models import OutboxEvent


def emit_money_event(kind: str, key: str, **payload: object) -> bool:
    """Write outbox event ``kind`` (``payment.received``, ``payment.failed``, ``refund.issued``…)
    in the current transaction unless one with the same dedup ``key`` exists for the tenant in
    scope; ``payload`` (primitives: ids, ``amount`` in minor units, ``reason``) is stored with
    ``key``. Returns True when written. Flushes."""
    return emit(kind, {**payload, "key": key}, dedup_key=key) is not None


def late_refund_told(payment_intent_id: str | None) -> bool:
    """Whether the customer is already told about this intent's refund by ``payment.late_refund``."""
    if not payment_intent_id:
        return False
    return bool(db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEvent).where(
        OutboxEvent.kind == "payment.late_refund", OutboxEvent.payload["payment_intent"].astext == payment_intent_id)))
