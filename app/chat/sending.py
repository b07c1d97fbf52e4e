"""The socket's send path: one SQL statement per message.

When a socket joins a conversation, everything a later message needs that does not change
from one message to the next is worked out once (:func:`grant_for`, with as many reads as it
takes): the tenant, conversation and participant ids, the principal, the accounts whose badges
count the conversation's unread messages, and the *conditions* of the post — SQL booleans that
hold while the principal may still write here (see :func:`conditions_for`). Each message is
then :func:`post_granted`: ONE ``INSERT … SELECT … WHERE <conditions> RETURNING seq`` whose
CTEs also move the author's delivered/read watermarks and write the ``chat.message_created``
outbox row. The conditions are evaluated by PostgreSQL inside that statement, so nothing the
join saw is trusted blindly: a staff member removed from the business, a blocked customer, a
cancelled booking or a participant row that is gone makes the statement insert nothing, and
the caller falls back to the full checks (:func:`app.chat.service.ensure_may_post`), which
explain the refusal. Together with the transaction's row-level-security settings
(:data:`app.tenants.rls.RLS_SQL`, issued when the transaction begins) that is two statements
per message.

Unread counts are not computed here: the outbox consumer reads the recipients for the
notifications (:mod:`app.notifications.fanout`), and the sockets of the accounts listed in the
grant are told "one more" (``chat:unread`` with ``delta``, sent by the socket layer); exact
counts are fetched lazily (pages, the inbox fragment, and every ``read``).

Tenant in scope for every function; nothing commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from app.booking.models import Booking
from app.chat.models import BOOKING, CUSTOMER, INQUIRY, STAFF, Conversation, Message, Participant
from app.chat.service import (
    CLOSED_TO_CUSTOMER,
    GUARD_FORMS,
    POST_GUARDS,
    Principal,
    inquiry_url,
    message_payload,
    recipients,
)
from app.extensions import db
from app.outbox.models import OutboxEvent
from app.tenants.context import require_tenant_id
from app.tenants.models import STAFF_ROLES, Membership
from app.timeutil import utcnow

#: ``kind`` of the outbox event of a new message (the same as :func:`app.chat.service.post_message`'s).
MESSAGE_CREATED = "chat.message_created"


@dataclass(frozen=True)
class SendGrant:
    """What a socket that joined a conversation needs to post there in one statement.

    ``conditions`` are SQL booleans (bound values, no state of the session) that must all hold
    for a post (:func:`conditions_for`); ``recipient_user_ids`` the accounts told about a new
    message when the socket joined (badge increments only: notifications compute their own);
    ``url`` the readers' link of an inquiry (``None`` for other subjects).
    """

    tenant_id: uuid.UUID
    conversation_id: uuid.UUID
    participant_id: uuid.UUID
    principal: Principal
    subject_type: str
    subject_id: uuid.UUID
    conditions: tuple[Any, ...] = ()
    recipient_user_ids: tuple[uuid.UUID, ...] = ()
    url: str | None = None
    made_at: datetime = field(default_factory=utcnow)
    #: The statement of :func:`post_granted`, built once when the grant is made (:func:`send_statement`).
    statement: sa.Select | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Sent:
    """A message stored by :func:`post_granted`: its id, ``seq`` and ``created_at`` (UTC), and
    its :func:`app.chat.service.message_payload` for the sockets."""

    id: uuid.UUID
    seq: int
    created_at: datetime
    payload: dict[str, Any]


def conditions_for(conv: Conversation, principal: Principal, participant_id: uuid.UUID) -> tuple[Any, ...] | None:
    """The SQL booleans that hold while ``principal`` may post in ``conv`` as ``participant_id``,
    or ``None`` when some post guard that applies has no SQL form (then every post takes the
    full path). Always: the participant row still exists. Staff: the account still holds a staff
    role in the business. A booking's customer: the booking is not cancelled
    (:func:`app.chat.service.customer_may_write`). Then each applicable guard's condition (the
    community's blocks)."""
    tid = require_tenant_id()
    conds: list[Any] = [sa.exists().where(Participant.tenant_id == tid, Participant.id == participant_id,
                                          Participant.conversation_id == conv.id)]
    if principal.role == STAFF:
        conds.append(sa.exists().where(Membership.tenant_id == tid, Membership.user_id == principal.user_id,
                                       Membership.role.in_(sorted(r.value for r in STAFF_ROLES))))
    if principal.role == CUSTOMER and conv.subject_type == BOOKING:
        conds.append(sa.exists().where(Booking.tenant_id == tid, Booking.id == conv.subject_id,
                                       Booking.status.not_in(sorted(CLOSED_TO_CUSTOMER))))
    for guard in POST_GUARDS:
        form = GUARD_FORMS.get(guard)
        if form is not None and form.applies is not None and not form.applies(conv.subject_type, principal.role):
            continue
        if form is None or form.condition is None:
            return None
        conds.append(form.condition(conv, principal))
    return tuple(conds)


def grant_for(conv: Conversation, principal: Principal, participant: Participant) -> SendGrant | None:
    """The :class:`SendGrant` of ``principal`` (joined as ``participant``) in ``conv``, or ``None``
    when its posts must take the full path (a guard without an SQL form applies). Reads."""
    conds = conditions_for(conv, principal, participant.id)
    if conds is None:
        return None
    url = inquiry_url(conv.subject_id, CUSTOMER if principal.role == STAFF else STAFF) if (
        conv.subject_type == INQUIRY) else None
    grant = SendGrant(conv.tenant_id, conv.id, participant.id, principal, conv.subject_type, conv.subject_id,
                      conds, tuple(recipients(conv, participant)), url)
    return replace(grant, statement=send_statement(grant))


def send_statement(grant: SendGrant) -> sa.Select:
    """The one statement of :func:`post_granted` for ``grant``, built once (SQLAlchemy then
    reuses its cache key and compiled form for every message): what changes per message is
    bound at execution — ``msg_id``, ``event_id``, ``body``, ``now`` and ``facts`` (the outbox
    payload without ``seq``, which the statement adds)."""
    tid, m, p, o = grant.tenant_id, Message.__table__, Participant.__table__, OutboxEvent.__table__
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    chosen = sa.select(sa.literal(tid, sa.Uuid), sa.bindparam("msg_id", type_=sa.Uuid),
                       sa.literal(grant.conversation_id, sa.Uuid), sa.literal(grant.participant_id, sa.Uuid),
                       sa.literal(grant.principal.role), sa.literal((grant.principal.name or "")[:120]),
                       sa.bindparam("body", type_=sa.Text), now)
    msg = (sa.insert(m).from_select(["tenant_id", "id", "conversation_id", "author_participant_id", "author_role",
                                     "author_name", "body", "created_at"], chosen.where(*grant.conditions))
           .returning(m.c.seq, m.c.conversation_id).cte("msg"))
    marks = (sa.update(p).where(p.c.tenant_id == tid, p.c.id == grant.participant_id,
                                p.c.conversation_id == msg.c.conversation_id)
             .values(last_delivered_seq=sa.func.greatest(p.c.last_delivered_seq, msg.c.seq),
                     last_read_seq=sa.func.greatest(p.c.last_read_seq, msg.c.seq)).cte("marks"))
    payload = sa.bindparam("facts", type_=JSONB).op("||")(sa.func.jsonb_build_object("seq", msg.c.seq))
    event = (sa.insert(o).from_select(["id", "tenant_id", "kind", "payload", "created_at"], sa.select(
        sa.bindparam("event_id", type_=sa.Uuid), sa.literal(tid, sa.Uuid), sa.literal(MESSAGE_CREATED), payload,
        now).select_from(msg)).cte("event"))
    return sa.select(msg.c.seq).add_cte(marks, event)


def post_granted(grant: SendGrant, text: str) -> Sent | None:
    """Store ``text`` (validated, rate counted) as ``grant``'s principal's message, in ONE
    statement (:func:`send_statement`): the insert (only when every condition of the grant
    holds), the author's delivered/read watermarks moved to its ``seq``, and the
    ``chat.message_created`` outbox row (ids, subject, author role and name, preview; no
    recipients: the consumer reads them). Returns ``None`` when a condition failed, or when
    another tenant than the grant's is in scope (nothing written)."""
    if require_tenant_id() != grant.tenant_id:
        return None
    msg_id, event_id, now = uuid.uuid4(), uuid.uuid4(), utcnow()
    name = (grant.principal.name or "")[:120]
    facts: dict[str, Any] = {
        "conversation_id": str(grant.conversation_id), "message_id": str(msg_id), "subject_type": grant.subject_type,
        "subject_id": str(grant.subject_id), "author_role": grant.principal.role, "sender_name": name,
        "preview": text[:200]}
    if grant.url:
        facts["url"] = grant.url
    statement = grant.statement if grant.statement is not None else send_statement(grant)
    seq = db.session.execute(statement, {"msg_id": msg_id, "event_id": event_id, "body": text, "now": now,
                                         "facts": facts}).scalar_one_or_none()
    if seq is None:
        return None
    stored = Message(id=msg_id, seq=seq, tenant_id=grant.tenant_id, conversation_id=grant.conversation_id,
                     author_participant_id=grant.participant_id, author_role=grant.principal.role,
                     author_name=name, body=text, created_at=now)
    return Sent(msg_id, int(seq), now, message_payload(stored))
