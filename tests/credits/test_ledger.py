"""A provider's lead credits: each move is one ledger entry with the balance before and after,
a replayed idempotency key changes nothing, the balance never goes below zero — even with many
claims racing for the same balance — and nobody can rewrite the ledger."""

from __future__ import annotations

import threading

import psycopg
import pytest

from app.credits import InsufficientCredits, balance, entries, move_credits
from app.tenants.context import tenant_scope
from app.uow import unit_of_work
from tests.factories import make_business
from tests.helpers import tenant_settings

pytestmark = pytest.mark.integration


def test_moves_are_written_with_the_balance_before_and_after(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), unit_of_work():
        move_credits("purchase", 10, "checkout:cs_1", checkout_session_id="cs_1", money_amount=2500,
                     money_currency="USD")
        move_credits("claim", -3, "claim:lead-1")
    with tenant_scope(biz.tenant_id):
        assert balance() == 7
        rows = [(e.kind, e.amount, e.balance_before, e.balance_after) for e in reversed(entries())]
    assert rows == [("purchase", 10, 0, 10), ("claim", -3, 10, 7)]


def test_a_replayed_key_moves_nothing(ctx):
    biz = make_business("bella")
    for _ in range(3):
        with tenant_scope(biz.tenant_id), unit_of_work():
            move = move_credits("purchase", 5, "checkout:cs_same")
    assert move.replayed
    with tenant_scope(biz.tenant_id):
        assert balance() == 5
        assert len(entries()) == 1


def test_a_claim_beyond_the_balance_is_refused_and_writes_nothing(ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), unit_of_work():
        move_credits("grant", 2, "welcome")
    with tenant_scope(biz.tenant_id), pytest.raises(InsufficientCredits) as refused, unit_of_work():
        move_credits("claim", -3, "claim:lead-big")
    assert (refused.value.needed, refused.value.balance) == (3, 2)
    with tenant_scope(biz.tenant_id):
        assert balance() == 2 and len(entries()) == 1


def test_many_simultaneous_claims_never_overdraw_one_balance(app, ctx):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), unit_of_work():
        move_credits("purchase", 10, "checkout:cs_race")
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def claim(i: int) -> None:
        with app.app_context(), tenant_scope(biz.tenant_id):
            barrier.wait(30)
            try:
                with unit_of_work():
                    move_credits("claim", -3, f"claim:lead-{i}")
                outcomes.append("claimed")
            except InsufficientCredits:
                outcomes.append("short")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["claimed"] * 3 + ["short"] * 9
    with tenant_scope(biz.tenant_id):
        assert balance() == 1
        after = [e.balance_after for e in reversed(entries())]
    assert after == [10, 7, 4, 1]


@pytest.mark.parametrize("key", ["DATABASE_URL", "PLATFORM_DATABASE_URL"])
def test_no_application_role_can_rewrite_the_ledger(ctx, services, key):
    biz = make_business("bella")
    with tenant_scope(biz.tenant_id), unit_of_work():
        move_credits("grant", 4, "welcome")
    with psycopg.connect(services[key].replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(*tenant_settings(biz.tenant_id, local=False))
        if key == "PLATFORM_DATABASE_URL":
            conn.execute("select set_config('app.platform', 'on', false)")
        assert conn.execute("select balance_after from credit_entry").fetchone()[0] == 4
        for sql in ("update credit_entry set amount = 400, balance_after = 400",
                    "delete from credit_entry", "truncate credit_entry"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql)
    with tenant_scope(biz.tenant_id):
        assert balance() == 4
