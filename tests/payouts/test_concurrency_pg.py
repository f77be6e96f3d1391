"""Two workers running payout batches at once on PostgreSQL pay each creator once.

The second batch is held at the exact point of contention (it waits on the first one's row
locks, seen in pg_stat_activity) before the first commits, so the race is deterministic.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from plugin.models import LedgerEntry, Payout, Shop
from plugin.services.payouts import batch_payouts, creator_balances
from tests.admin.factories import make_creator, make_entry, make_shop

pytestmark = pytest.mark.postgres


@pytest.fixture
def committed_shop(postgres_engine: Engine) -> Iterator[dict[str, Any]]:
    with Session(postgres_engine, expire_on_commit=False) as session:
        shop = make_shop(session, "race.example")
        anna = make_creator(session, shop, "anna")
        ben = make_creator(session, shop, "ben")
        for creator, amount in ((anna, 1_000), (anna, 250), (ben, 700)):
            make_entry(session, shop, creator, amount)
        session.commit()
        ids = {"shop": shop.id, "anna": anna.id, "ben": ben.id}
    yield ids
    with Session(postgres_engine) as session:
        session.execute(delete(Shop).where(Shop.id == ids["shop"]))
        session.commit()


def wait_until_blocked(engine: Engine, pid: int) -> None:
    with engine.connect() as connection:
        for _ in range(400):
            state = connection.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar()
            if state == "Lock":
                return
            connection.rollback()
            time.sleep(0.025)
    pytest.fail(f"backend {pid} never waited on a lock")


def run_second_batch(engine: Engine, shop_id: int, batch_key: str, out: queue.Queue[Any]) -> None:
    try:
        with Session(engine, expire_on_commit=False) as session:
            out.put(session.execute(text("SELECT pg_backend_pid()")).scalar())
            created = batch_payouts(session, shop_id, batch_key)
            session.commit()
            out.put([(p.creator_id, p.amount_minor) for p in created])
    except Exception as exc:
        out.put(exc)


@pytest.mark.parametrize("second_key", ["daily-2026-11-25", "manual-20261125T0900"])
def test_two_concurrent_batches_pay_each_creator_once(
    postgres_engine: Engine, committed_shop: dict[str, Any], second_key: str
) -> None:
    # given the first worker has batched but not committed yet
    shop_id = committed_shop["shop"]
    first = Session(postgres_engine, expire_on_commit=False)
    created_first = batch_payouts(first, shop_id, "daily-2026-11-25")
    results: queue.Queue[Any] = queue.Queue()
    worker = threading.Thread(
        target=run_second_batch, args=(postgres_engine, shop_id, second_key, results)
    )
    # when the second worker runs the batch (same key, or another key over the same entries)
    worker.start()
    wait_until_blocked(postgres_engine, results.get(timeout=30))
    first.commit()
    first.close()
    worker.join(timeout=60)
    # then the second worker created nothing, and every entry is claimed exactly once
    assert [(p.creator_id, p.amount_minor) for p in created_first] == [
        (committed_shop["anna"], 1_250),
        (committed_shop["ben"], 700),
    ]
    assert results.get(timeout=1) == []
    with Session(postgres_engine) as check:
        payouts = check.execute(
            select(Payout.creator_id, Payout.amount_minor).where(Payout.shop_id == shop_id)
        ).all()
        unclaimed = check.scalar(
            select(LedgerEntry.id).where(
                LedgerEntry.shop_id == shop_id, LedgerEntry.payout_id.is_(None)
            )
        )
        # the balance rollup moved once, with the winning claims only
        rolled_up = creator_balances(check, shop_id)
        assert rolled_up == creator_balances(check, shop_id, source="raw")
    assert sorted(payouts) == [(committed_shop["anna"], 1_250), (committed_shop["ben"], 700)]
    assert unclaimed is None
    assert sorted(b.in_payout_minor for b in rolled_up.values()) == [700, 1_250]


def test_two_threads_racing_freely_produce_one_payout_per_creator(
    postgres_engine: Engine, committed_shop: dict[str, Any]
) -> None:
    shop_id = committed_shop["shop"]
    barrier = threading.Barrier(2)
    outcomes: queue.Queue[Any] = queue.Queue()

    def batch() -> None:
        try:
            with Session(postgres_engine, expire_on_commit=False) as session:
                barrier.wait(timeout=30)
                created = batch_payouts(session, shop_id, "daily-2026-11-26")
                session.commit()
                outcomes.put(len(created))
        except Exception as exc:
            outcomes.put(exc)

    threads = [threading.Thread(target=batch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    counts = sorted(outcomes.get(timeout=1) for _ in threads)
    assert counts == [0, 2]
    with Session(postgres_engine) as check:
        payouts = check.scalars(select(Payout.amount_minor).where(Payout.shop_id == shop_id)).all()
        rolled_up = creator_balances(check, shop_id)
        assert rolled_up == creator_balances(check, shop_id, source="raw")
    assert sorted(payouts) == [700, 1_250]
    assert sorted(b.in_payout_minor for b in rolled_up.values()) == [700, 1_250]
