"""The customer's conversation list (app.chat.inbox_queries): bookings at every business with
their unread counts, read in one query (no query per row)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.chat import service as chat
from app.chat.inbox_queries import customer_conversations
from app.extensions import db
from app.identity.models import User
from app.tenants.context import tenant_scope
from tests.factories import make_business
from tests.support.chat_fixtures import build_world, make_booking

pytestmark = pytest.mark.integration


def _staff_writes(tenant_id, booking_id, owner_id, *bodies: str) -> None:
    with tenant_scope(tenant_id):
        conv = chat.conversation_for_booking(booking_id)
        staff = chat.Principal(chat.STAFF, user_id=owner_id, name="Owner")
        chat.join_conversation(conv, staff)
        for body in bodies:
            chat.post_message(conv, staff, body)
        db.session.commit()


def _in_context(app, fn):
    with app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def test_every_businesss_conversation_with_its_unread_count_in_one_query(app):
    world = _in_context(app, build_world)
    fixit = _in_context(app, lambda: make_business("fixit", timezone="America/New_York", currency="USD"))
    other_booking, _ = _in_context(app, lambda: make_booking(fixit.tenant_id, world.customer_email,
                                                             world.customer_user_id, days=4))
    third_booking, _ = _in_context(app, lambda: make_booking(world.biz.tenant_id, world.customer_email,
                                                             world.customer_user_id, hour=14))
    fixit_owner = _in_context(app, lambda: db.session.scalar(sa.select(User.id).where(User.email == fixit.owner_email)))
    _in_context(app, lambda: _staff_writes(world.biz.tenant_id, world.booking_id, world.owner_user_id, "One", "Two"))
    _in_context(app, lambda: _staff_writes(fixit.tenant_id, other_booking, fixit_owner, "Hello"))
    with app.app_context():
        _check(world, other_booking, third_booking)


def _check(world, other_booking, third_booking) -> None:
    user = db.session.get(User, world.customer_user_id)
    statements: list[str] = []
    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().lower().startswith("select") and "set_config" not in statement:
            statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
    try:
        rows = customer_conversations(user)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "message" in statements[0] and "booking" in statements[0], statements
    by_booking = {r.booking_id: r for r in rows}
    assert set(by_booking) == {world.booking_id, other_booking, third_booking}
    assert by_booking[world.booking_id].unread == 2 and by_booking[world.booking_id].conversation_id is not None
    assert by_booking[other_booking].unread == 1 and by_booking[other_booking].business == "Fixit"
    assert by_booking[third_booking].unread == 0 and by_booking[third_booking].conversation_id is None
    starts = [r.starts_at for r in rows]
    assert starts == sorted(starts, reverse=True)
