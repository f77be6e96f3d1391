"""Property: however the platform delivers an order's events (any order, each 1-3 times), the
final state and ledger are those of a single in-order delivery, and the creator's balance is
what the orders earned minus what their refunds and cancellations took back.

The events come from the sandbox store (the real payload format, parsed by its connector). Each
run happens inside its own savepoint, rolled back afterwards, so examples never see each other.

"The same ledger" means the same rows (idempotency key, kind, amount), every one of them,
refund reversals and their give-backs included, and no row that moves zero. A second test
replays one order with several refunds and a cancellation in every possible order.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import ConnectorConfig
from connectors.sandbox.connector import SandboxConnector
from connectors.sandbox.store import Delivery, Item, SandboxStore
from plugin.domain.money import round_half_even
from plugin.models import LedgerEntry, Order, Refund, utcnow
from plugin.services.ledger import creator_balance
from plugin.services.orders import apply_order, apply_refund
from tests.engine.factories import T0, make_agreement, make_code, make_creator, make_shop

RATE_BPS = 1_250
CONNECTOR = SandboxConnector(ConnectorConfig(public_url="https://tastemaker.test"))


@dataclass
class Expected:
    """What the script should earn, computed from the script alone (not from the ledger)."""

    net: int
    attributed: bool
    test: bool
    paid: bool = False
    cancelled: bool = False
    refunded: list[int] = field(default_factory=list)

    def balance(self) -> int:
        if self.test or not self.attributed or not self.paid:
            return 0
        earned = round_half_even(Fraction(self.net * RATE_BPS, 10_000))
        if self.cancelled or sum(self.refunded) >= self.net:
            return 0
        # each refund takes back its own share, rounded down
        return earned - sum(earned * amount // self.net for amount in self.refunded)


# Weighted towards orders that earn (creator code, paid, not a test) and get refunded.
order_specs = st.fixed_dictionaries(
    {
        "items": st.lists(
            st.tuples(st.integers(1, 30_000), st.integers(1, 3)), min_size=1, max_size=3
        ),
        "discount_bps": st.sampled_from([0, 1_000, 2_500]),
        "code": st.sampled_from(["ALICE10", "alice10", "Alice10", " ALICE10 ", "WELCOME", None]),
        "paid_at_checkout": st.sampled_from([True, True, False]),
        "test": st.sampled_from([False] * 7 + [True]),
    }
)
actions = st.tuples(
    st.sampled_from(["pay", "refund", "refund", "refund", "cancel"]),
    st.integers(0, 1),
    st.integers(1, 6_000),
)


def run_store(
    specs: list[dict[str, Any]], script: list[tuple[str, int, int]]
) -> tuple[list[Delivery], list[Expected]]:
    clock = iter(T0 + timedelta(minutes=n) for n in range(10_000))
    store = SandboxStore(
        "prop.example", "secret", transport=lambda *_: 200, clock=lambda: next(clock)
    )
    placed: list[dict[str, Any]] = []
    expected: list[Expected] = []
    for spec in specs:
        items = [
            Item(n, n, f"item {n}", price, qty) for n, (price, qty) in enumerate(spec["items"])
        ]
        payload = store.place_order(
            items,
            discount_code=spec["code"],
            discount_bps=spec["discount_bps"],
            paid=spec["paid_at_checkout"],
            test=spec["test"],
        )
        placed.append(payload)
        attributed = (spec["code"] or "").strip().lower() == "alice10"
        expected.append(
            Expected(payload["subtotal_minor"], attributed, spec["test"], spec["paid_at_checkout"])
        )
    for kind, index, bps in script:
        order_id, facts = placed[index % len(placed)]["id"], expected[index % len(placed)]
        if kind == "pay" and not facts.paid and not facts.cancelled:
            store.mark_paid(order_id)
            facts.paid = True
        elif kind == "refund" and facts.paid:
            amount = max(facts.net * bps // 10_000, 1)
            store.refund(order_id, amount)
            facts.refunded.append(amount)
        elif kind == "cancel" and not facts.cancelled:
            store.cancel(order_id)
            facts.cancelled = True
    return store.deliveries, expected


def replay(
    session: Session, deliveries: list[Delivery]
) -> tuple[dict[str, Any], int, int, dict[str, datetime]]:
    """Apply `deliveries` to a fresh shop inside a savepoint.

    Returns the final state, the creator's balance, the sum of all entries, and when each
    commission becomes payable.
    """
    savepoint = session.begin_nested()
    try:
        shop = make_shop(session)
        alice = make_creator(session, shop, "alice")
        make_code(
            session,
            shop,
            alice,
            "ALICE10",
            agreement=make_agreement(session, shop, alice, rate_bps=RATE_BPS),
        )
        for delivery in deliveries:
            payload = json.loads(delivery.body)
            if delivery.topic == "refunds/create":
                apply_refund(session, shop, CONNECTOR.parse_refund(payload, shop.currency))
            else:
                apply_order(session, shop, CONNECTOR.parse_order(payload))
        available, held, _ = creator_balance(session, shop.id, alice.id, utcnow())
        releases = {
            e.idempotency_key: e.available_at
            for e in session.scalars(
                select(LedgerEntry).where(
                    LedgerEntry.shop_id == shop.id, LedgerEntry.kind == "commission"
                )
            )
        }
        return (
            snapshot(session, shop.id),
            available + held,
            _sum_entries(session, shop.id),
            releases,
        )
    finally:
        savepoint.rollback()


def snapshot(session: Session, shop_id: int) -> dict[str, Any]:
    entries = session.scalars(select(LedgerEntry).where(LedgerEntry.shop_id == shop_id)).all()
    orders = session.scalars(select(Order).where(Order.shop_id == shop_id)).all()
    refunds = session.scalars(select(Refund).where(Refund.shop_id == shop_id)).all()
    return {
        "rows": sorted((e.idempotency_key, e.kind, e.amount_minor) for e in entries),
        "zero_rows": [e.idempotency_key for e in entries if e.amount_minor == 0],
        "orders": sorted(
            (o.platform_order_id, o.status, o.platform_updated_at, o.paid_at, o.cancelled_at)
            for o in orders
        ),
        "refunds": sorted(
            (r.platform_refund_id, r.item_amount_minor, r.applied_at is not None) for r in refunds
        ),
    }


def _sum_entries(session: Session, shop_id: int) -> int:
    amounts = session.scalars(
        select(LedgerEntry.amount_minor).where(LedgerEntry.shop_id == shop_id)
    ).all()
    return sum(amounts)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(order_specs, min_size=1, max_size=2),
    script=st.lists(actions, min_size=1, max_size=7),
    data=st.data(),
)
def test_any_delivery_order_gives_the_in_order_ledger(
    session: Session,
    specs: list[dict[str, Any]],
    script: list[tuple[str, int, int]],
    data: st.DataObject,
) -> None:
    # given the store's events, and the same events each delivered 1-3 times in any order
    deliveries, expected = run_store(specs, script)
    copies = data.draw(
        st.lists(st.integers(1, 3), min_size=len(deliveries), max_size=len(deliveries))
    )
    repeated = [d for d, n in zip(deliveries, copies, strict=True) for _ in range(n)]
    shuffled = data.draw(st.permutations(repeated))
    # when
    in_order, in_order_balance, _, in_order_releases = replay(session, deliveries)
    state, balance, total, releases = replay(session, shuffled)
    # then
    assert state["zero_rows"] == []
    assert state == in_order
    assert balance == in_order_balance == total == sum(e.balance() for e in expected)
    # The hold runs from the first payload seen paid: never earlier than in order, maybe later.
    assert releases.keys() == in_order_releases.keys()
    assert all(releases[key] >= in_order_releases[key] for key in releases)


def _multi_refund_deliveries(cancel: bool) -> list[Delivery]:
    # 10 007 of item revenue earns 1 251 (12.5%); the refunds' shares (375.4, 250.4, 125.4)
    # do not add up to whole units, so any re-split of one into another would show.
    clock = iter(T0 + timedelta(minutes=n) for n in range(100))
    store = SandboxStore(
        "perm.example", "secret", transport=lambda *_: 200, clock=lambda: next(clock)
    )
    placed = store.place_order([Item(1, 1, "item", 10_007, 1)], discount_code="ALICE10")
    for amount in (3_003, 2_003, 1_003):
        store.refund(placed["id"], amount)
    if cancel:
        store.cancel(placed["id"])
    else:
        store.refund(placed["id"], 3_998)  # exactly the rest
    return store.deliveries


def _kinds_and_amounts(session: Session, deliveries: list[Delivery]) -> list[tuple[str, int]]:
    savepoint = session.begin_nested()
    try:
        shop = make_shop(session)
        alice = make_creator(session, shop, "alice")
        agreement = make_agreement(session, shop, alice, rate_bps=RATE_BPS)
        make_code(session, shop, alice, "ALICE10", agreement=agreement)
        for delivery in deliveries:
            payload = json.loads(delivery.body)
            if delivery.topic == "refunds/create":
                apply_refund(session, shop, CONNECTOR.parse_refund(payload, shop.currency))
            else:
                apply_order(session, shop, CONNECTOR.parse_order(payload))
        rows = session.scalars(select(LedgerEntry).where(LedgerEntry.shop_id == shop.id)).all()
        return sorted((e.kind, e.amount_minor) for e in rows)
    finally:
        savepoint.rollback()


@pytest.mark.parametrize("cancel", [True, False], ids=["refunds-then-cancel", "refunded-in-full"])
def test_several_refunds_book_the_same_rows_in_every_arrival_order(
    session: Session, cancel: bool
) -> None:
    # given an order's events: placed and paid, three partial refunds (each followed by the
    # order's update), then a cancellation or a refund covering the rest
    deliveries = _multi_refund_deliveries(cancel)
    in_order = _kinds_and_amounts(session, deliveries)
    # when the events that move money arrive in every possible order after the order itself
    head, moving = deliveries[:2], deliveries[2:]
    money_events = [d for d in moving if d.topic in ("refunds/create", "orders/cancelled")]
    updates = [d for d in moving if d not in money_events]
    outcomes = {
        tuple(_kinds_and_amounts(session, [*head, *permutation, *updates]))
        for permutation in itertools.permutations(money_events)
    }
    # then every order books the same rows, none of them zero, netting to nothing
    assert outcomes == {tuple(in_order)}
    assert all(amount != 0 for _, amount in in_order)
    assert sum(amount for _, amount in in_order) == 0
    assert ("reversal", -1_251) in in_order
    assert [row for row in in_order if row[0] == "reversal"].count(("reversal", -375)) == 1
