"""What the chat tells connected clients after a change has committed (any process).

Call these once the change is committed (socket events register them as effects with
:func:`app.uow.after_commit`), inside the tenant scope of the
conversation.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from app.chat import service as chat
from app.chat.models import Conversation, Message, Participant
from app.chat.sending import SendGrant
from app.extensions import db
from app.realtime.emit import batched, conversation_room, emit_to_room, emit_to_staff, emit_to_user


def message_posted(conv: Conversation, msg: Message | dict[str, object]) -> None:
    """New message: to the conversation room; fresh unread counts to the other participants'
    accounts (every tab and device); an activity ping to the business's staff.

    ``msg`` may be the row or its :func:`app.chat.service.message_payload` taken before the
    commit (saves reloading the expired row).
    """
    payload = msg if isinstance(msg, dict) else chat.message_payload(msg)
    tenant_id, conversation_id = str(payload["tenant_id"]), str(payload["conversation_id"])
    author = uuid.UUID(str(payload["author_participant_id"]))
    unread = chat.unread_by_account(conv, except_participant_id=author)
    with batched():  # one Redis round trip for the three kinds of event
        emit_to_room(conversation_room(tenant_id, conversation_id), "chat:message", payload)
        for p, count in unread:
            emit_to_user(p.user_id, "chat:unread", {"conversation_id": conversation_id, "tenant_id": tenant_id,
                                                    "unread": count, "last_read_seq": p.last_read_seq})
        emit_to_staff(tenant_id, "chat:activity", {"conversation_id": conversation_id, "tenant_id": tenant_id,
                                                   "subject_type": conv.subject_type,
                                                   "subject_id": str(conv.subject_id), "seq": payload["seq"]})


def unread_changed(conv: Conversation, participant: Participant) -> None:
    """The participant's unread count in ``conv`` to every socket of their account."""
    if participant.user_id is None:
        return
    emit_to_user(participant.user_id, "chat:unread", {
        "conversation_id": str(conv.id), "tenant_id": str(conv.tenant_id),
        "unread": chat.unread_count(conv, participant), "last_read_seq": participant.last_read_seq})


def receipts_changed(conv: Conversation) -> None:
    """Both sides' delivered/read watermarks to the conversation room."""
    emit_to_room(conversation_room(conv.tenant_id, conv.id), "chat:receipts", receipts_payload(conv))


def receipts_payload(conv: Conversation) -> dict[str, object]:
    """``{"conversation_id", "customer": {"delivered", "read"}, "staff": {...}}``: the highest
    seq each side has received and read."""
    rows = db.session.execute(
        sa.select(Participant.role, sa.func.max(Participant.last_delivered_seq), sa.func.max(Participant.last_read_seq))
        .where(Participant.conversation_id == conv.id).group_by(Participant.role)).all()
    out: dict[str, object] = {"conversation_id": str(conv.id),
                              "customer": {"delivered": 0, "read": 0}, "staff": {"delivered": 0, "read": 0}}
    for role, delivered, read in rows:
        out[role] = {"delivered": int(delivered or 0), "read": int(read or 0)}
    return out


def message_sent(grant: SendGrant, payload: dict[str, object]) -> None:
    """A message stored by the socket's one-statement send (:mod:`app.chat.sending`): to the
    conversation room; ``chat:unread`` with ``delta: 1`` (no count: none is read on the send
    path) to the accounts of the grant but the author's; an activity ping to the business's
    staff, all published in one Redis round trip. No SQL."""
    tenant_id, conversation_id = str(grant.tenant_id), str(grant.conversation_id)
    with batched():  # one Redis round trip for the three kinds of event
        emit_to_room(conversation_room(tenant_id, conversation_id), "chat:message", payload)
        for user_id in grant.recipient_user_ids:
            if user_id != grant.principal.user_id:
                emit_to_user(user_id, "chat:unread", {"conversation_id": conversation_id, "tenant_id": tenant_id,
                                                      "delta": 1, "seq": payload["seq"]})
        emit_to_staff(tenant_id, "chat:activity", {"conversation_id": conversation_id, "tenant_id": tenant_id,
                                                   "subject_type": grant.subject_type,
                                                   "subject_id": str(grant.subject_id), "seq": payload["seq"]})
