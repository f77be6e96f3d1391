"""apply_order / apply_refund / delete_order against the real schema (PostgreSQL and SQLite)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connectors.base import ConnectorConfig, MalformedPayload
from connectors.sandbox.connector import SandboxConnector
from connectors.sandbox.store import Item, SandboxStore
from plugin.models import Attribution, LedgerEntry, Order, Payout, Refund, Shop, utcnow
from plugin.services.ledger import creator_balance
from plugin.services.orders import apply_order, apply_refund, delete_order
from tests.engine.factories import (
    T0,
    email_hash,
    later,
    make_agreement,
    make_click,
    make_code,
    make_creator,
    make_link,
    make_shop,
    order,
    refund,
)


def entries(session: Session, shop: Shop) -> list[tuple[str, str, int]]:
    rows = session.scalars(
        select(LedgerEntry).where(LedgerEntry.shop_id == shop.id).order_by(LedgerEntry.id)
    )
    return [(e.idempotency_key, e.kind, e.amount_minor) for e in rows]


@pytest.fixture
def shop(session: Session) -> Shop:
    shop = make_shop(session)
    alice = make_creator(session, shop, "alice", email_hash=email_hash("a@x.test"))
    agreement = make_agreement(session, shop, alice, rate_bps=1000)
    make_code(session, shop, alice, "ALICE10", agreement=agreement)
    return shop


def test_paid_order_with_creator_code_earns_held_commission(session: Session, shop: Shop) -> None:
    # given
    payload = order(
        discount_codes=("alice10",), presentment_currency="EUR", presentment_total_minor=9_300
    )
    # when
    row = apply_order(session, shop, payload)
    # then
    assert row is not None
    assert (row.status, row.paid_at, row.net_item_revenue_minor) == ("paid", T0, 10_000)
    attribution = session.scalars(select(Attribution).where(Attribution.order_id == row.id)).one()
    assert (attribution.method, attribution.self_referral) == ("code", False)
    (entry,) = session.scalars(select(LedgerEntry).where(LedgerEntry.shop_id == shop.id)).all()
    assert (entry.kind, entry.amount_minor, entry.currency) == ("commission", 1_000, "USD")
    assert (entry.base_minor, entry.rate_bps) == (10_000, 1000)
    assert (entry.presentment_amount_minor, entry.presentment_currency) == (9_300, "EUR")
    assert entry.available_at == T0 + timedelta(days=30)
    assert entry.idempotency_key == "commission:7001"
    assert entry.order_id == row.id
    assert entry.agreement_id == attribution.agreement_id


@pytest.mark.parametrize(
    ("currency", "unit_price", "rate_bps", "commission"),
    [("JPY", 12_345, 1000, 1_234), ("USD", 10_015, 1000, 1_002), ("KWD", 1_234_567, 250, 30_864)],
)
def test_commission_in_zero_two_and_three_decimal_currencies(
    session: Session, currency: str, unit_price: int, rate_bps: int, commission: int
) -> None:
    # given a shop booking in `currency`
    shop = make_shop(session, currency=currency)
    creator = make_creator(session, shop, "kenji")
    make_code(
        session,
        shop,
        creator,
        "KENJI",
        agreement=make_agreement(session, shop, creator, rate_bps=rate_bps),
    )
    payload = order(
        currency=currency,
        presentment_currency=currency,
        discount_codes=("KENJI",),
        line_items=(),
        subtotal_minor=unit_price,
        total_minor=unit_price,
        presentment_total_minor=unit_price,
    )
    # when
    apply_order(session, shop, payload)
    # then
    assert entries(session, shop) == [("commission:7001", "commission", commission)]
    assert creator_balance(session, shop.id, creator.id, T0)[1:] == (commission, currency)


def test_replays_and_older_payloads_change_nothing(session: Session, shop: Shop) -> None:
    # given the paid payload applied
    pending = order(status="pending", discount_codes=("ALICE10",))
    paid = later(pending, 5, status="paid")
    apply_order(session, shop, paid)
    # when the same payload comes twice more and the older pending one arrives late
    apply_order(session, shop, paid)
    apply_order(session, shop, pending)
    apply_order(session, shop, paid)
    # then
    row = session.scalars(select(Order).where(Order.shop_id == shop.id)).one()
    assert (row.status, row.platform_updated_at) == ("paid", T0 + timedelta(minutes=5))
    assert entries(session, shop) == [("commission:7001", "commission", 1_000)]


def test_pending_order_earns_only_once_paid(session: Session, shop: Shop) -> None:
    pending = order(status="pending", discount_codes=("ALICE10",))
    apply_order(session, shop, pending)
    assert entries(session, shop) == []
    apply_order(session, shop, later(pending, 60, status="paid"))
    commission = session.scalars(select(LedgerEntry).where(LedgerEntry.shop_id == shop.id)).one()
    # the hold runs from payment, not from placement
    assert commission.available_at == T0 + timedelta(minutes=60) + timedelta(days=30)


def test_refund_before_its_order_is_held_then_reversed(session: Session, shop: Shop) -> None:
    # given a refund for an order we have not seen
    apply_refund(session, shop, refund(5001, 2_500))
    held = session.scalars(select(Refund).where(Refund.shop_id == shop.id)).one()
    assert held.applied_at is None
    assert entries(session, shop) == []
    # when the order arrives
    apply_order(session, shop, order(status="partially_refunded", discount_codes=("ALICE10",)))
    # then the refund is applied
    session.refresh(held)
    assert held.applied_at is not None
    assert entries(session, shop) == [
        ("commission:7001", "commission", 1_000),
        ("reversal:7001:refund:5001", "reversal", -250),
    ]


def test_embedded_and_standalone_copies_of_a_refund_count_once(
    session: Session, shop: Shop
) -> None:
    paid = order(discount_codes=("ALICE10",))
    first = refund(5001, 3_333)
    apply_order(session, shop, paid)
    apply_refund(session, shop, first)
    apply_order(session, shop, later(paid, 10, status="partially_refunded", refunds=(first,)))
    apply_refund(session, shop, first)
    assert entries(session, shop) == [
        ("commission:7001", "commission", 1_000),
        ("reversal:7001:refund:5001", "reversal", -333),
    ]
    assert len(session.scalars(select(Refund).where(Refund.shop_id == shop.id)).all()) == 1


def test_partial_refunds_then_the_rest_reverse_exactly_the_commission(
    session: Session, shop: Shop
) -> None:
    # given a commission of 1 001 (10% of 10 010)
    apply_order(
        session, shop, order(discount_codes=("ALICE10",), line_items=(), subtotal_minor=10_010)
    )
    # when refunded in two halves and then a bit more
    apply_refund(session, shop, refund(5001, 5_005, at=T0 + timedelta(days=1)))
    apply_refund(session, shop, refund(5002, 5_005, at=T0 + timedelta(days=2)))
    apply_refund(session, shop, refund(5003, 100, at=T0 + timedelta(days=3)))
    # then each half reverses its own 500.5 rounded down; once the halves cover the revenue the
    # whole commission is reversed in one entry and the halves are given back, and the third
    # refund, whose 10.01 rounds down to 10, is posted and given back the same way
    assert sorted(entries(session, shop)) == [
        ("commission:7001", "commission", 1_001),
        ("reversal:7001:cancel", "reversal", -1_001),
        ("reversal:7001:refund:5001", "reversal", -500),
        ("reversal:7001:refund:5001:cancelled", "adjustment", 500),
        ("reversal:7001:refund:5002", "reversal", -500),
        ("reversal:7001:refund:5002:cancelled", "adjustment", 500),
        ("reversal:7001:refund:5003", "reversal", -10),
        ("reversal:7001:refund:5003:cancelled", "adjustment", 10),
    ]


def test_a_full_refund_reverses_the_commission_in_one_entry(session: Session, shop: Shop) -> None:
    # given
    apply_order(session, shop, order(discount_codes=("ALICE10",)))
    # when the whole item revenue is refunded at once
    apply_refund(session, shop, refund(5001, 10_000))
    # then one entry, with no refund reversal to give back
    assert entries(session, shop) == [
        ("commission:7001", "commission", 1_000),
        ("reversal:7001:cancel", "reversal", -1_000),
    ]


@pytest.mark.parametrize("cancel_first", [False, True], ids=["refund-first", "cancel-first"])
def test_cancellation_and_refund_book_the_same_entries_in_either_order(
    session: Session, shop: Shop, cancel_first: bool
) -> None:
    # given a paid order, a 20% refund and its cancellation
    paid = order(discount_codes=("ALICE10",))
    apply_order(session, shop, paid)
    steps = [
        lambda: apply_refund(session, shop, refund(5001, 2_000)),
        lambda: apply_order(
            session, shop, later(paid, 30, status="cancelled", cancelled_at=paid.created_at)
        ),
    ]
    # when applied in either order
    for step in reversed(steps) if cancel_first else steps:
        step()
    # then the cancellation takes back everything and gives the refund's reversal back
    assert sorted(entries(session, shop)) == [
        ("commission:7001", "commission", 1_000),
        ("reversal:7001:cancel", "reversal", -1_000),
        ("reversal:7001:refund:5001", "reversal", -200),
        ("reversal:7001:refund:5001:cancelled", "adjustment", 200),
    ]


def test_a_paid_order_with_a_negative_total_is_refused_and_posts_nothing(
    session: Session, shop: Shop
) -> None:
    # when
    with pytest.raises(MalformedPayload, match=r"negative amounts \(total -5000\)"):
        apply_order(session, shop, order(discount_codes=("ALICE10",), total_minor=-5_000))
    # then
    assert entries(session, shop) == []
    assert session.scalars(select(Order).where(Order.shop_id == shop.id)).all() == []


def test_cancellation_seen_before_payment_still_nets_to_zero(session: Session, shop: Shop) -> None:
    # given the cancelled payload arrives first, then the (older) paid one
    paid = order(discount_codes=("ALICE10",))
    apply_order(session, shop, later(paid, 30, status="cancelled"))
    apply_order(session, shop, paid)
    # then the order stays cancelled, and it earned and lost its commission
    row = session.scalars(select(Order).where(Order.shop_id == shop.id)).one()
    assert row.status == "cancelled"
    assert entries(session, shop) == [
        ("commission:7001", "commission", 1_000),
        ("reversal:7001:cancel", "reversal", -1_000),
    ]


def test_deleted_order_counts_as_cancelled_in_any_order(session: Session, shop: Shop) -> None:
    # given a deletion before the order's own payloads
    delete_order(session, shop, 7001)
    tombstone = session.scalars(select(Order).where(Order.shop_id == shop.id)).one()
    assert (tombstone.status, tombstone.deleted_at is not None) == ("cancelled", True)
    # when the paid payload arrives
    apply_order(session, shop, order(discount_codes=("ALICE10",)))
    # then
    assert (tombstone.status, tombstone.order_number, tombstone.placed_at) == (
        "cancelled",
        "SB7001",
        T0,
    )
    assert entries(session, shop) == [
        ("commission:7001", "commission", 1_000),
        ("reversal:7001:cancel", "reversal", -1_000),
    ]
    delete_order(session, shop, 7001)
    assert len(entries(session, shop)) == 2


def test_test_orders_are_excluded(session: Session, shop: Shop) -> None:
    assert apply_order(session, shop, order(discount_codes=("ALICE10",), test=True)) is None
    assert session.scalars(select(Order).where(Order.shop_id == shop.id)).all() == []


def test_self_referral_is_recorded_but_earns_nothing(session: Session, shop: Shop) -> None:
    row = apply_order(
        session,
        shop,
        order(discount_codes=("ALICE10",), customer_email_hash=email_hash("a@x.test")),
    )
    assert row is not None
    attribution = session.scalars(select(Attribution).where(Attribution.order_id == row.id)).one()
    assert (attribution.method, attribution.self_referral) == ("code", True)
    assert attribution.evidence["self_referral"] == {"matched_on": "email"}
    assert entries(session, shop) == []


def test_unknown_status_is_a_malformed_payload(session: Session, shop: Shop) -> None:
    with pytest.raises(MalformedPayload, match="order status 'authorized'"):
        apply_order(session, shop, order(status="authorized"))


def test_attribution_stays_open_until_the_order_earns(session: Session, shop: Shop) -> None:
    # given an order created before its click was replayed from the spool
    bob = make_creator(session, shop, "bob")
    make_agreement(session, shop, bob, rate_bps=500)
    pending = order(status="pending", click_id="late-click")
    row = apply_order(session, shop, pending)
    assert row is not None
    attribution = session.scalars(select(Attribution).where(Attribution.order_id == row.id)).one()
    assert attribution.method == "none"
    # when the click lands, then the paid payload
    make_click(session, make_link(session, shop, bob), "late-click", T0 - timedelta(hours=1))
    apply_order(session, shop, later(pending, 5, status="paid"))
    # then
    assert (attribution.method, attribution.creator_id) == ("click", bob.id)
    assert entries(session, shop) == [("commission:7001", "commission", 500)]


def test_reversal_after_payout_is_payable_at_once(session: Session, shop: Shop) -> None:
    # given a commission already claimed by a payout
    apply_order(session, shop, order(discount_codes=("ALICE10",)))
    commission = session.scalars(select(LedgerEntry).where(LedgerEntry.shop_id == shop.id)).one()
    payout = Payout(
        shop_id=shop.id,
        creator_id=commission.creator_id,
        amount_minor=1_000,
        currency="USD",
        idempotency_key="p1",
        batch_key="b1",
    )
    session.add(payout)
    session.flush()
    session.execute(
        update(LedgerEntry).where(LedgerEntry.id == commission.id).values(payout_id=payout.id)
    )
    # when the order is refunded in full
    before = utcnow()
    apply_refund(session, shop, refund(5001, 10_000))
    # then the creator owes it back from the next payout
    reversal = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "reversal", LedgerEntry.shop_id == shop.id)
    ).one()
    assert reversal.amount_minor == -1_000
    assert before <= reversal.available_at <= utcnow()
    assert creator_balance(session, shop.id, commission.creator_id, utcnow()) == (-1_000, 0, "USD")


def test_refund_inside_the_hold_is_held_with_its_commission(session: Session, shop: Shop) -> None:
    # given a commission still inside its hold period
    placed = utcnow() - timedelta(days=2)
    apply_order(
        session, shop, order(discount_codes=("ALICE10",), created_at=placed, updated_at=placed)
    )
    # when half is refunded
    apply_refund(session, shop, refund(5001, 5_000, at=placed + timedelta(days=1)))
    # then the reversal waits with it: nothing negative is payable meanwhile
    commission, reversal = session.scalars(
        select(LedgerEntry).where(LedgerEntry.shop_id == shop.id).order_by(LedgerEntry.id)
    ).all()
    assert reversal.available_at == commission.available_at == placed + timedelta(days=30)
    creator_id = commission.creator_id
    assert creator_balance(session, shop.id, creator_id, utcnow()) == (0, 500, "USD")


def test_sandbox_store_payloads_drive_the_engine(session: Session, shop: Shop) -> None:
    # given the simulated store (deliveries recorded, not sent) and its connector
    store = SandboxStore(shop.domain, "s3cret", transport=lambda *_: 200, clock=lambda: T0)
    connector = SandboxConnector(ConnectorConfig(public_url="https://tastemaker.test"))
    placed = store.place_order(
        [Item(1, 11, "Serum", 4_500, 2)], discount_code="Alice10", discount_bps=1000
    )
    store.refund(placed["id"], 2_025)
    store.cancel(placed["id"])
    # when every delivery is applied, newest first
    for delivery in reversed(store.deliveries):
        payload = json.loads(delivery.body)
        if delivery.topic == "refunds/create":
            apply_refund(session, shop, connector.parse_refund(payload, shop.currency))
        else:
            apply_order(session, shop, connector.parse_order(payload))
    # then: 10% of 8 100 net item revenue; a quarter refunded (202.5 -> 202), given back when
    # the cancellation takes back all of it
    key = placed["id"]
    assert sorted(entries(session, shop)) == [
        (f"commission:{key}", "commission", 810),
        (f"reversal:{key}:cancel", "reversal", -810),
        (f"reversal:{key}:refund:5001", "reversal", -202),
        (f"reversal:{key}:refund:5001:cancelled", "adjustment", 202),
    ]
