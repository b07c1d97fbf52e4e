"""Stripe webhook intake and processing: signatures, the ledger, derived state under chaos."""

from __future__ import annotations

import json
import random
import threading
import time

import psycopg
import pytest
import sqlalchemy as sa

from app.billing.gateway import get_gateway
from app.billing.models import StripeWebhookEvent
from app.billing.webhooks import subscription_snapshot
from app.delivery.models import Delivery
from app.extensions import db
from app.tenants.context import platform_scope
from tests.factories import make_business
from tests.localstripe_server import event_json, sign
from tests.support.billing_fixtures import (  # noqa: F401
    PREMIUM,
    PREVIOUS,
    PRO,
    SECRET,
    deliver,
    localstripe_url,
    post_raw,
    stripe_on,
)
from tests.support.conftest_mail import run_jobs, running_mailbox

pytestmark = pytest.mark.integration


def ledger_count() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(StripeWebhookEvent))


def sent_keys() -> list[str]:
    db.session.rollback()
    with platform_scope("test"):
        keys = sorted(db.session.scalars(sa.select(Delivery.dedup_key).where(Delivery.status == "sent")))
    db.session.rollback()
    return keys


def snapshot():
    db.session.rollback()
    snap = subscription_snapshot()
    db.session.rollback()
    return snap


@pytest.mark.usefixtures("stripe_on")
def test_signed_event_is_recorded_once_and_answered_at_once(client, ctx):
    obj = {"id": "cus_x", "object": "customer"}
    first = deliver(client, "evt_1", "customer.updated", obj)
    assert first.status_code == 200 and first.json == {"received": True, "duplicate": False}
    again = deliver(client, "evt_1", "customer.updated", obj)
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert ledger_count() == 1
    # Signed with the previous secret (rotation) is accepted too, on a business's host as well.
    make_business("bella")
    assert deliver(client, "evt_2", "customer.updated", obj, secret=PREVIOUS, host="bella.localhost").status_code \
        == 200
    assert deliver(client, "evt_3", "customer.updated", obj, secret=PREVIOUS).status_code == 200
    assert ledger_count() == 3


def _tamper_cases():
    body = event_json("evt_bad", "customer.subscription.updated", {"id": "sub_x", "object": "subscription"})
    flipped = bytearray(body.encode())
    flipped[40] ^= 0x01
    reserialised = json.dumps(json.loads(body), indent=2)
    return {
        "flipped byte": (bytes(flipped), sign(body, SECRET)),
        "wrong secret": (body, sign(body, "whsec_someone_else")),
        "old timestamp": (body, sign(body, SECRET, timestamp=int(time.time()) - 301)),
        "re-serialised JSON": (reserialised, sign(body, SECRET)),
        "no signature": (body, ""),
        "not UTF-8": (b"\xff\xfe" + body.encode(), sign(body, SECRET)),
    }


@pytest.mark.usefixtures("stripe_on")
@pytest.mark.parametrize("case", list(_tamper_cases()))
def test_bad_signatures_get_400_and_write_nothing(client, ctx, case):
    body, header = _tamper_cases()[case]
    resp = post_raw(client, body, header)
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json" and resp.json["status"] == 400
    assert ledger_count() == 0


# --- chaos: every event three times, shuffled, many seeds -------------------------------------------


def _scenario(bizs) -> list[tuple[str, str, dict]]:
    """Drive two subscriptions at localstripe and return the events Stripe would have sent,
    in order, each with the object as it was at that moment."""
    gw = get_gateway()
    events: list[tuple[str, str, dict]] = []
    n = 0

    def emit(etype: str, obj: dict) -> None:
        nonlocal n
        n += 1
        events.append((f"evt_chaos_{n}", etype, obj))

    a, b = bizs
    # Business A: subscribes to Pro, upgrades, cancels at period end, is cancelled; plus a stale update.
    cus = gw.create_customer(a.owner_email, "A", str(a.tenant_id))
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
    sub = gw.create_subscription(cus["id"], PRO, str(a.tenant_id))
    emit("customer.subscription.created", sub)
    emit("invoice.payment_succeeded", gw.retrieve_invoice(sub["latest_invoice"]))
    emit("customer.subscription.updated", gw.change_price(sub["id"], PRO))
    emit("customer.subscription.updated", gw.set_cancel_at_period_end(sub["id"], True))
    stale = gw.retrieve_subscription(sub["id"])
    emit("customer.subscription.deleted", gw.cancel_now(sub["id"]))
    emit("customer.subscription.updated", {**stale, "status": "active"})
    # Business B: Pro, the card fails on the upgrade (past due, dunning), then recovers.
    cus = gw.create_customer(b.owner_email, "B", str(b.tenant_id))
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
    sub = gw.create_subscription(cus["id"], PRO, str(b.tenant_id))
    emit("customer.subscription.created", sub)
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method("4000000000000341"))
    upgraded = gw.change_price(sub["id"], PREMIUM)
    emit("customer.subscription.updated", upgraded)
    failed = gw.retrieve_invoice(gw.retrieve_subscription(sub["id"])["latest_invoice"])
    emit("invoice.payment_failed", failed)
    emit("customer.subscription.updated", gw.retrieve_subscription(sub["id"]))
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
    emit("invoice.payment_succeeded", gw.pay_invoice(failed["id"]))
    emit("customer.subscription.updated", gw.retrieve_subscription(sub["id"]))
    return events


def _reset(services) -> None:
    db.session.rollback()
    with psycopg.connect(services["OWNER_URL"].replace("postgresql+psycopg://", "postgresql://"),
                         autocommit=True) as conn:
        conn.execute("truncate stripe_webhook_event, billing_subscription, delivery")


@pytest.mark.usefixtures("stripe_on")
def test_shuffled_triple_delivery_ends_like_one_in_order_delivery(client, ctx, services, monkeypatch):
    bizs = [make_business("alpha"), make_business("beta")]
    events = _scenario(bizs)
    with running_mailbox() as box:
        monkeypatch.setitem(client.application.config, "SMTP_URL", box.url)
        # 13 replays of the same scenario mail one owner far more often than a real hour would.
        monkeypatch.setitem(client.application.config, "MAIL_PER_RECIPIENT_PER_HOUR", 1000)
        for eid, etype, obj in events:
            assert deliver(client, eid, etype, obj).status_code == 200
        assert run_jobs(client.application) == []
        expected, expected_mail = snapshot(), sent_keys()
        by_tenant = {s[0]: s for s in expected}
        assert (by_tenant[bizs[0].tenant_id][2], by_tenant[bizs[0].tenant_id][3]) == ("canceled", "pro")
        assert (by_tenant[bizs[1].tenant_id][2], by_tenant[bizs[1].tenant_id][3]) == ("active", "premium")
        assert len(expected_mail) == 2  # one dunning email, one "payment recovered"
        assert any(":dunning:" in k for k in expected_mail) and any(":recovered:" in k for k in expected_mail)
        mails_per_run = len(box.messages)

        for seed in range(12):
            _reset(services)
            deliveries = [e for e in events for _ in range(3)]
            random.Random(seed).shuffle(deliveries)
            for i, (eid, etype, obj) in enumerate(deliveries):
                assert deliver(client, eid, etype, obj).status_code == 200
                if i % 7 == 0:  # interleave processing with intake
                    assert run_jobs(client.application) == []
            assert run_jobs(client.application) == []
            assert snapshot() == expected, f"seed {seed}"
            assert sent_keys() == expected_mail, f"seed {seed}"
            assert ledger_count() == len(events)
        # The database was reset between runs, but every run sent each email exactly once.
        assert len(box.messages) == mails_per_run * 13


@pytest.mark.usefixtures("stripe_on")
def test_stale_update_after_delete_changes_nothing(client, ctx):
    biz = make_business("alpha")
    gw = get_gateway()
    cus = gw.create_customer(biz.owner_email, "A", str(biz.tenant_id))
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
    sub = gw.create_subscription(cus["id"], PRO, str(biz.tenant_id))
    live = gw.retrieve_subscription(sub["id"])
    deliver(client, "evt_del", "customer.subscription.deleted", gw.cancel_now(sub["id"]))
    run_jobs(client.application)
    before = snapshot()
    assert before[0][2] == "canceled"
    deliver(client, "evt_stale", "customer.subscription.updated", {**live, "status": "active"})
    run_jobs(client.application)
    assert snapshot() == before


@pytest.mark.usefixtures("stripe_on")
def test_two_simultaneous_deliveries_are_recorded_and_processed_once(client, app, ctx, monkeypatch):
    from app.billing.tasks import handle_event

    biz = make_business("beta")
    gw = get_gateway()
    cus = gw.create_customer(biz.owner_email, "B", str(biz.tenant_id))
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
    sub = gw.create_subscription(cus["id"], PRO, str(biz.tenant_id))
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method("4000000000000341"))
    gw.change_price(sub["id"], PREMIUM)
    failed = gw.retrieve_invoice(gw.retrieve_subscription(sub["id"])["latest_invoice"])
    body = event_json("evt_race", "invoice.payment_failed", failed)
    header = sign(body, SECRET)
    with running_mailbox() as box:
        monkeypatch.setitem(app.config, "SMTP_URL", box.url)
        barrier = threading.Barrier(6)
        statuses: list[int] = []

        def post() -> None:
            c = app.test_client()
            barrier.wait()
            statuses.append(post_raw(c, body, header).status_code)

        threads = [threading.Thread(target=post) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 6 and ledger_count() == 1

        # Two jobs for the same event race: one processes it, the others skip.
        results: list[str] = []
        barrier2 = threading.Barrier(4)

        def job() -> None:  # what the process_webhook_event job runs, in its own app context
            with app.app_context():
                barrier2.wait()
                try:
                    results.append(handle_event("evt_race"))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=job) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["processed", "skipped", "skipped", "skipped"]
        assert run_jobs(app) == []
        assert box.wait_until(lambda: len(box.messages) >= 1, timeout=10)
        assert len(box.to(biz.owner_email)) == 1
        assert snapshot()[0][2] == "past_due"


@pytest.mark.usefixtures("stripe_on")
def test_payment_events_are_recorded_then_handed_to_the_payments_handlers(client, ctx, monkeypatch):
    import sys
    import types

    seen: list[tuple[str, str, int]] = []

    def handler(event: dict) -> str:
        # The ledger row exists (recorded before dispatch) while the handler runs.
        seen.append((event["id"], event["type"], ledger_count()))
        return "ok"

    fake = types.ModuleType("app.checkout.webhooks")
    fake.HANDLERS = {"payment_intent.succeeded": handler}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.checkout.webhooks", fake)
    for _ in range(2):
        assert deliver(client, "evt_pi_1", "payment_intent.succeeded", {"id": "pi_1"}).status_code == 200
    assert deliver(client, "evt_pi_2", "payment_intent.canceled", {"id": "pi_1"}).status_code == 200  # no handler
    assert run_jobs(client.application) == []
    assert seen == [("evt_pi_1", "payment_intent.succeeded", 2)]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StripeWebhookEvent)
                             .where(StripeWebhookEvent.processed_at.is_not(None))) == 2


@pytest.mark.usefixtures("stripe_on")
def test_failed_processing_is_recorded_and_recovered_by_the_sweep(app, client, ctx, monkeypatch):
    from app.devservices import free_port

    biz = make_business("alpha")
    gw = get_gateway()
    cus = gw.create_customer(biz.owner_email, "A", str(biz.tenant_id))
    gw.set_default_payment_method(cus["id"], gw.create_test_payment_method())
    sub = gw.create_subscription(cus["id"], PRO, str(biz.tenant_id))
    good_base = app.config["STRIPE_API_BASE"]
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")  # Stripe unreachable
    assert deliver(client, "evt_sweep", "customer.subscription.created", sub).status_code == 200
    errors = run_jobs(app)
    assert errors and "process_webhook_event" in errors[0]
    db.session.rollback()
    event = db.session.get(StripeWebhookEvent, "evt_sweep")
    assert event.processed_at is None and event.error and event.attempts == 1
    assert snapshot() == []

    monkeypatch.setitem(app.config, "STRIPE_API_BASE", good_base)
    result = app.test_cli_runner().invoke(args=["billing", "process-pending"])
    assert result.exit_code == 0 and "processed 1 event(s)" in result.output
    [state] = snapshot()
    assert state[2:4] == ("active", "pro")
