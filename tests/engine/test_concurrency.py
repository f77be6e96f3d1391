"""Two workers applying the same order at once, on PostgreSQL with real commits: one effect."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from plugin.models import LedgerEntry, Order, Shop
from plugin.services.orders import apply_order, apply_refund
from tests.engine.factories import (
    later,
    make_agreement,
    make_code,
    make_creator,
    make_shop,
    order,
    refund,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def committed_shop(postgres_engine: Engine) -> Iterator[int]:
    """A shop with a creator code, committed for real; deleted (with everything) afterwards."""
    factory = sessionmaker(bind=postgres_engine, expire_on_commit=False)
    with factory() as session:
        shop = make_shop(session)
        alice = make_creator(session, shop, "alice")
        make_code(session, shop, alice, "ALICE10", agreement=make_agreement(session, shop, alice))
        session.commit()
        shop_id = shop.id
    yield shop_id
    with factory() as session:
        session.execute(delete(Shop).where(Shop.id == shop_id))
        session.commit()


def run_together(engine: Engine, shop_id: int, *work: Callable[[Session, Shop], Any]) -> None:
    """Run each callable in its own thread and session, released at the same instant."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def worker(apply: Callable[[Session, Shop], Any]) -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                shop = session.get(Shop, shop_id)
                assert shop is not None
                barrier.wait(timeout=10)
                apply(session, shop)
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(apply,)) for apply in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []


def ledger(engine: Engine, shop_id: int) -> list[tuple[str, int]]:
    with Session(engine) as session:
        rows = session.execute(
            select(LedgerEntry.idempotency_key, LedgerEntry.amount_minor)
            .where(LedgerEntry.shop_id == shop_id)
            .order_by(LedgerEntry.idempotency_key)
        )
        return [(key, amount) for key, amount in rows]


def test_same_payload_applied_twice_at_once_makes_one_order_and_one_commission(
    postgres_engine: Engine, committed_shop: int
) -> None:
    # given
    payload = order(discount_codes=("ALICE10",))
    # when two workers apply it at the same moment
    run_together(
        postgres_engine,
        committed_shop,
        lambda session, shop: apply_order(session, shop, payload),
        lambda session, shop: apply_order(session, shop, payload),
    )
    # then
    with Session(postgres_engine) as session:
        orders = session.scalar(select(func.count(Order.id)).where(Order.shop_id == committed_shop))
    assert orders == 1
    assert ledger(postgres_engine, committed_shop) == [("commission:7001", 1_000)]


def test_refund_racing_its_order_is_never_lost(
    postgres_engine: Engine, committed_shop: int
) -> None:
    # given a refund whose standalone delivery races the order's first payload
    paid = order(discount_codes=("ALICE10",))
    # when both are applied at the same moment
    run_together(
        postgres_engine,
        committed_shop,
        lambda session, shop: apply_order(session, shop, paid),
        lambda session, shop: apply_refund(session, shop, refund(5001, 4_000)),
    )
    # then the refund was reversed, whichever committed first
    assert ledger(postgres_engine, committed_shop) == [
        ("commission:7001", 1_000),
        ("reversal:7001:refund:5001", -400),
    ]
    # and when two copies of its cancellation race each other
    run_together(
        postgres_engine,
        committed_shop,
        lambda session, shop: apply_order(session, shop, later(paid, 5, status="cancelled")),
        lambda session, shop: apply_order(session, shop, later(paid, 5, status="cancelled")),
    )
    assert ledger(postgres_engine, committed_shop) == [
        ("commission:7001", 1_000),
        ("reversal:7001:cancel", -1_000),
        ("reversal:7001:refund:5001", -400),
        ("reversal:7001:refund:5001:cancelled", 400),
    ]
