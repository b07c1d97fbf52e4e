"""Broadcasts from the platform: the audience (customers only with a platform-wide marketing
consent), sending in batches once per person even when a job dies or runs twice, and stopping."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEntry
from app.audit.service import AuditActor
from app.broadcasts import service, tasks
from app.broadcasts.audience import make_audience, recipient_ids
from app.broadcasts.models import Broadcast, BroadcastRecipient
from app.extensions import db
from app.notifications import preferences
from app.notifications.center_models import Notification
from app.tenants.context import platform_scope, tenant_scope
from app.tenants.models import Tenant
from app.timeutil import utcnow
from app.uow import unit_of_work
from tests.factories import make_business, make_user
from tests.support.conftest_mail import run_jobs
from tests.support.notification_support import book, day_at, fresh_read

pytestmark = pytest.mark.integration


def _in_city(biz, city: str) -> None:
    with tenant_scope(biz.tenant_id):
        db.session.get(Tenant, biz.tenant_id).city = city
        db.session.commit()


def _broadcast(audience, *, channels=("inapp", "email"), subject="Spring on Plaza") -> uuid.UUID:
    admin = make_user(f"ops-{uuid.uuid4().hex[:6]}@plaza.test", is_platform_admin=True)
    by = AuditActor(admin)
    with unit_of_work():  # as the console's request does: the first batch is enqueued after the commit
        b = service.create_draft(audience, by=by)
        service.set_message(b, subject, "New businesses near you.", list(channels))
        service.schedule(b, None, by=by)
    return b.id


def _notices(subject: str = "Spring on Plaza") -> dict[uuid.UUID, int]:
    fresh_read()
    rows = db.session.execute(sa.select(Notification.user_id, sa.func.count()).where(Notification.title == subject)
                              .group_by(Notification.user_id)).all()
    return dict(rows)


@pytest.fixture
def city(ctx):
    """Bella in Copenhagen with customers Alice (consents to Plaza's marketing), Bob (never did)
    and Carol (consents to Bella's news only); Fixit in Aarhus with Dave (consents)."""
    bella, fixit = make_business("bella"), make_business("fixit")
    _in_city(bella, "Copenhagen")
    _in_city(fixit, "Aarhus")
    people = {name: make_user(f"{name}@example.com", name=name.title()) for name in ("alice", "bob", "carol", "dave")}
    for i, name in enumerate(("alice", "bob", "carol")):
        book(bella, day_at(3, 9 + i), user_id=people[name], email=f"{name}@example.com")
    book(fixit, day_at(3, 10), user_id=people["dave"], email="dave@example.com")
    for name in ("alice", "dave"):
        preferences.grant_consent(people[name], method="signup checkbox", source="/signup-customer")
    preferences.grant_consent(people["carol"], method="booking checkbox", source="/book", tenant_id=bella.tenant_id)
    db.session.commit()
    run_jobs(ctx)  # the bookings' own notifications
    return people


def test_customers_of_a_city_are_only_those_consenting_to_plaza_and_each_gets_it_once(ctx, city, mailbox):
    audience = make_audience("customers", city="copenhagen")
    assert recipient_ids(audience) == [city["alice"]]
    broadcast_id = _broadcast(audience)
    assert run_jobs(ctx) == []
    assert _notices() == {city["alice"]: 1}
    [mail] = mailbox.to("alice@example.com", "Spring on Plaza")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # marketing: one-click unsubscribe
    for name in ("bob", "carol", "dave"):
        assert mailbox.to(f"{name}@example.com", "Spring on Plaza") == []
    b = db.session.get(Broadcast, broadcast_id)
    assert (b.status, b.total, b.done) == ("sent", 1, 1)
    with platform_scope("test: audit"):
        actions = [e.action for e in db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.object_id == str(broadcast_id)).order_by(AuditEntry.at))]
    assert actions == ["broadcast.drafted", "broadcast.scheduled"]


def test_consent_withdrawn_after_scheduling_is_respected(ctx, city, mailbox):
    broadcast_id = _broadcast(make_audience("customers", city="Copenhagen"))
    with unit_of_work():  # sending starts: Alice is among the recipients...
        tasks.send_next_batch(broadcast_id, batch_size=0)
    preferences.withdraw_consent(city["alice"], method="preferences page")  # ...and withdraws before her batch
    db.session.commit()
    assert run_jobs(ctx) == []
    assert _notices() == {} and mailbox.to("alice@example.com", "Spring on Plaza") == []
    assert db.session.scalar(sa.select(BroadcastRecipient.reason).where(
        BroadcastRecipient.broadcast_id == broadcast_id)) == "no marketing consent"


def _owners(n: int) -> list[str]:
    for i in range(n):
        make_business(f"shop{i}")
    return [f"owner@shop{i}.test" for i in range(n)]


def test_a_batch_killed_midway_or_run_twice_notifies_nobody_twice(ctx, mailbox):
    _owners(5)
    broadcast_id = _broadcast(make_audience("businesses"), subject="Plaza update")
    db.session.rollback()
    with pytest.raises(KeyboardInterrupt), unit_of_work():  # the worker is killed mid-batch
        tasks.send_next_batch(broadcast_id, batch_size=3)
        raise KeyboardInterrupt
    assert _notices("Plaza update") == {}
    with unit_of_work():  # restarted: the first batch again, committed; then the job chain is lost
        assert tasks.send_next_batch(broadcast_id, batch_size=3) == "more"
    assert sorted(_notices("Plaza update").values()) == [1, 1, 1]
    # A recipient's row is found pending again (a duplicate job, a lost write): the notice is not repeated.
    with platform_scope("test: replay a recipient"):
        first = db.session.scalar(sa.select(BroadcastRecipient).where(BroadcastRecipient.status == "done").limit(1))
        first.status = "pending"
        db.session.commit()
    assert run_jobs(ctx) == []  # the enqueued next batch, then the sweep-free end
    with unit_of_work():
        assert tasks.sweep(utcnow() + timedelta(minutes=5)) == 0  # nothing stalled: it finished
    assert sorted(_notices("Plaza update").values()) == [1, 1, 1, 1, 1]
    assert len(mailbox.messages) == 5
    b = db.session.get(Broadcast, broadcast_id)
    db.session.refresh(b)
    assert b.status == "sent"


def test_a_lost_job_chain_is_picked_up_by_the_sweep(ctx, mailbox):
    _owners(3)
    broadcast_id = _broadcast(make_audience("businesses"), subject="Plaza update")
    with unit_of_work():
        tasks.send_next_batch(broadcast_id, batch_size=1)
    from redis import Redis

    Redis.from_url(ctx.config["REDIS_URL"]).flushdb()  # the enqueued next batch is lost
    with unit_of_work():
        assert tasks.sweep() == 0  # not stalled yet
    with unit_of_work():
        assert tasks.sweep(utcnow() + timedelta(minutes=5)) == 1
    assert run_jobs(ctx) == []
    assert sorted(_notices("Plaza update").values()) == [1, 1, 1]


def test_stop_skips_the_remaining_batches(ctx, mailbox):
    _owners(4)
    broadcast_id = _broadcast(make_audience("businesses"), subject="Plaza update")
    with unit_of_work():
        tasks.send_next_batch(broadcast_id, batch_size=1)
    admin = make_user("stopper@plaza.test", is_platform_admin=True)
    b = db.session.get(Broadcast, broadcast_id)
    assert service.stop(b, by=AuditActor(admin)) == 3
    db.session.commit()
    assert run_jobs(ctx) == []  # the next batch finds nobody pending
    assert list(_notices("Plaza update").values()) == [1]
    progress = service.progress(db.session.get(Broadcast, broadcast_id))
    assert (progress.total, progress.sent, progress.skipped, progress.finished) == (4, 1, 3, True)
    with pytest.raises(service.BroadcastError):
        service.stop(db.session.get(Broadcast, broadcast_id), by=AuditActor(admin))


def test_email_only_and_in_app_only_channels(ctx, mailbox):
    _owners(1)
    _broadcast(make_audience("businesses"), channels=("email",), subject="By mail")
    _broadcast(make_audience("businesses"), channels=("inapp",), subject="In the app")
    assert run_jobs(ctx) == []
    assert len(mailbox.to("owner@shop0.test", "By mail")) == 1
    assert mailbox.to("owner@shop0.test", "In the app") == []
    fresh_read()
    inbox = {n.title: n.archived_at for n in db.session.scalars(sa.select(Notification))}
    assert inbox["In the app"] is None and inbox["By mail"] is not None


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"kind": "everyone"}, "kind"),
    ({"kind": "customers"}, "city"),
    ({"kind": "customers", "business": "nope"}, "business"),
    ({"kind": "businesses", "plan": "gold"}, "plan"),
    ({"kind": "businesses", "country": "Denmark"}, "country"),
    ({"kind": "businesses", "category": "astrology"}, "category"),
])
def test_bad_audiences_are_refused(ctx, kwargs, field):
    from app.broadcasts.audience import AudienceError

    kind = kwargs.pop("kind")
    with pytest.raises(AudienceError) as err:
        make_audience(kind, **kwargs)
    assert err.value.field == field


def test_businesses_are_chosen_by_country_category_and_plan(ctx):
    from app.identity.service import find_user

    for slug, country, category in (("dk-hair", "DK", "hair"), ("dk-nails", "DK", "nails"), ("se-hair", "SE", "hair")):
        biz = make_business(slug)
        with tenant_scope(biz.tenant_id):
            tenant = db.session.get(Tenant, biz.tenant_id)
            tenant.country, tenant.category_slug = country, category
            db.session.commit()
    owner = {slug: find_user(f"owner@{slug}.test").id for slug in ("dk-hair", "dk-nails", "se-hair")}
    assert recipient_ids(make_audience("businesses", country="dk")) == sorted([owner["dk-hair"], owner["dk-nails"]])
    assert recipient_ids(make_audience("businesses", category="hair")) == sorted([owner["dk-hair"], owner["se-hair"]])
    assert recipient_ids(make_audience("businesses", country="DK", category="hair")) == [owner["dk-hair"]]
    # Without billing configured every business is on Free.
    assert len(recipient_ids(make_audience("businesses", plan="free"))) == 3
    assert recipient_ids(make_audience("businesses", plan="pro")) == []


def test_a_broadcast_scheduled_for_later_starts_when_due(ctx, mailbox):
    _owners(1)
    admin = make_user("ops@plaza.test", is_platform_admin=True)
    with unit_of_work():
        b = service.create_draft(make_audience("businesses"), by=AuditActor(admin))
        service.set_message(b, "Maintenance tonight", "From 22:00 UTC.", ["email"])
        service.schedule(b, utcnow() + timedelta(hours=2), by=AuditActor(admin))
    assert run_jobs(ctx) == []  # the scheduled job is RQ's scheduler's, not due yet
    with unit_of_work():
        assert tasks.sweep() == 0
        assert tasks.send_next_batch(b.id) == "waiting"
    later = utcnow() + timedelta(hours=3)
    with unit_of_work():
        assert tasks.sweep(later) == 1  # due then: the sweep enqueues its batch
    with unit_of_work():  # and the batch, run then, sends it
        assert tasks.send_next_batch(b.id, now=later) == "sent"
    assert run_jobs(ctx) == []
    assert len(mailbox.to("owner@shop0.test", "Maintenance tonight")) == 1
