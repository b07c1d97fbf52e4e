# ruff: noqa: F811 - pytest fixtures imported from chat_fixtures
"""A suspension closes the open Socket.IO connections of the business or person through the
message queue, on whichever web process holds them (two real processes, real clients)."""

from __future__ import annotations

import pytest

from app.admin import sanctions
from app.audit.service import AuditActor
from app.extensions import db
from app.realtime import closing
from app.redis_client import get_redis
from app.uow import unit_of_work
from tests.blueprints.realtime.test_chat_realtime import run
from tests.factories import make_user
from tests.support.chat_fixtures import ChatClient, session_cookie, web_pair, world  # noqa: F401

pytestmark = pytest.mark.integration


def _impose(app, kind: str, subject_id, admin) -> None:
    with app.app_context():
        with unit_of_work():
            sanctions.impose(sanctions.Subject(kind, subject_id), "suspend", "Abuse", AuditActor(admin))
        db.session.remove()


def test_suspending_a_business_closes_the_sockets_on_its_host_at_once(app, world, web_pair):
    a, b = web_pair
    with app.app_context():
        admin = make_user("root@plaza.test", is_platform_admin=True)
        db.session.remove()

    async def body():
        customer_here = ChatClient(session_cookie(app, world.customer_email))
        staff_here = ChatClient(session_cookie(app, world.biz.owner_email))
        owner_on_apex = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await customer_here.connect(a.url("bella.localhost"))
            await staff_here.connect(b.url("bella.localhost"))
            await owner_on_apex.connect(a.url())
            with app.app_context():
                assert len(get_redis().smembers(closing.tenant_key(world.biz.tenant_id))) == 2
            _impose(app, sanctions.BUSINESS, world.biz.tenant_id, admin)
            # Closed through the queue, well before a watchdog sweep could (it does not close these).
            await customer_here.wait_for(lambda: customer_here.disconnects >= 1, timeout=1.2)
            await staff_here.wait_for(lambda: staff_here.disconnects >= 1, timeout=1.2)
            assert owner_on_apex.disconnects == 0  # the owner's own account is not suspended
            refused = ChatClient(session_cookie(app, world.customer_email))
            with pytest.raises(Exception, match="(?i)connect"):
                await refused.connect(a.url("bella.localhost"))
            await refused.close()
        finally:
            for c in (customer_here, staff_here, owner_on_apex):
                await c.close()

    run(body())


def test_suspending_a_person_closes_every_socket_of_theirs(app, world, web_pair):
    a, b = web_pair
    with app.app_context():
        admin = make_user("root@plaza.test", is_platform_admin=True)
        db.session.remove()

    async def body():
        apex = ChatClient(session_cookie(app, world.customer_email))
        host = ChatClient(session_cookie(app, world.customer_email))
        bystander = ChatClient(session_cookie(app, world.biz.owner_email))
        try:
            await apex.connect(a.url())
            await host.connect(b.url("bella.localhost"))
            await bystander.connect(b.url("bella.localhost"))
            _impose(app, sanctions.PERSON, world.customer_user_id, admin)
            await apex.wait_for(lambda: apex.disconnects >= 1, timeout=3)
            await host.wait_for(lambda: host.disconnects >= 1, timeout=3)
            with app.app_context():
                assert not get_redis().smembers(closing.user_key(world.customer_user_id))
            assert bystander.disconnects == 0
        finally:
            for c in (apex, host, bystander):
                await c.close()

    run(body())
