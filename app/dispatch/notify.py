"""What dispatch tells the outside world once a change has committed: Socket.IO events to the
customer's request room and the operator's user room, and the job that lapses an offer.

Events carry ids and the new status only; the pages fetch their server-rendered fragment again
(``dispatch:changed`` and ``dispatch:offer``), and poll as a fallback, so a lost event only
delays an update. Rooms: :func:`request_room` (the customer's status page joins it).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from app.jobs.runner import enqueue_at
from app.realtime.emit import emit_to_room, emit_to_user
from app.uow import after_commit

#: Dotted path of the job that lapses an offer whose window passed.
LAPSE_JOB = "app.dispatch.tasks.lapse_offer"


def request_room(request_id: uuid.UUID | str) -> str:
    """The Socket.IO room of the sockets watching one dispatch request."""
    return f"dispatch:{request_id}"


def request_changed(request_id: uuid.UUID, operator_user_id: uuid.UUID | None, customer_user_id: uuid.UUID | None,
                    status: str) -> None:
    """After the commit: tell the request's room, the customer and the operator (when given)
    that the request is now ``status``."""
    payload = {"request_id": str(request_id), "status": status}

    def emit() -> None:
        emit_to_room(request_room(request_id), "dispatch:changed", payload)
        if operator_user_id is not None:
            emit_to_user(operator_user_id, "dispatch:changed", payload)

    after_commit(emit)


def offer_made(request_id: uuid.UUID, offer_id: uuid.UUID, operator_user_id: uuid.UUID, expires_at: datetime) -> None:
    """After the commit: show the offer on the operator's phone, update the customer's page and
    schedule :data:`LAPSE_JOB` at ``expires_at`` (tz-aware UTC)."""
    payload = {"request_id": str(request_id), "offer_id": str(offer_id), "status": "offered",
               "expires_at": expires_at.isoformat()}

    def effect() -> None:
        enqueue_at(expires_at, LAPSE_JOB, str(request_id), str(offer_id))
        emit_to_user(operator_user_id, "dispatch:offer", payload)
        emit_to_room(request_room(request_id), "dispatch:changed", payload)

    after_commit(effect)
